"""The torch validation model's channel mixers (MLP, MoE) and the fp32 random fill every module uses.

Both take and ignore `cache` and `step`, so a sublayer calls every operator the same way.
MoE routing: top-k of the router logits, softmax over the k (= softmax then renormalised top-k);
tokens are sorted by expert and run as one GEMM pair per expert that received tokens (a host sync
reads the counts).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from perfsim.calibrate import torch_ops as ops
from perfsim.spec.model import MoESpec


def random_(p: Tensor, gen: torch.Generator, std: float | None = None, bound: float | None = None) -> None:
    """N(0, std) or U(-bound, bound) drawn in fp32, so every dtype gets the same (rounded) weights."""
    out = p if p.dtype == torch.float32 else torch.empty(p.shape, device=p.device, dtype=torch.float32)
    if std is not None:
        out.normal_(0.0, std, generator=gen)
    else:
        assert bound is not None, "random_ needs std or bound"
        out.uniform_(-bound, bound, generator=gen)
    if out is not p:
        p.copy_(out)


class MLP(nn.Module):
    """Up (fused gate|up when gated), activation, down."""

    def __init__(self, hidden: int, inner: int, kind: str, bias: bool = False):
        super().__init__()
        self.kind = kind
        self.up = nn.Linear(hidden, inner * (2 if kind in ("swiglu", "geglu") else 1), bias=bias)
        self.down = nn.Linear(inner, hidden, bias=bias)

    def forward(self, x: Tensor, cache=None, step=None) -> Tensor:
        return self.down(ops.activation(self.up(x), self.kind))


class MoE(nn.Module):
    """Router, top-k routed experts (optionally in a latent width), optional fused shared experts."""

    def __init__(self, spec: MoESpec, hidden: int):
        super().__init__()
        e, f, self.k, self.kind = spec.num_experts, spec.expert_intermediate_size, spec.top_k, spec.activation
        width = spec.latent_dim or hidden
        up = f * (2 if spec.gated else 1)
        self.router = nn.Linear(hidden, e, bias=spec.router_bias)
        self.latent_down = nn.Linear(hidden, spec.latent_dim, bias=False) if spec.latent_dim else None
        self.latent_up = nn.Linear(spec.latent_dim, hidden, bias=False) if spec.latent_dim else None
        self.w_up = nn.Parameter(torch.empty(e, width, up))
        self.w_down = nn.Parameter(torch.empty(e, f, width))
        self.b_up = nn.Parameter(torch.empty(e, up)) if spec.expert_bias else None
        self.b_down = nn.Parameter(torch.empty(e, width)) if spec.expert_bias else None
        shared = spec.num_shared_experts * spec.shared_intermediate_size
        self.shared = MLP(hidden, shared, spec.activation) if shared else None

    def _init_own(self, gen, std):
        random_(self.w_up, gen, std=std)
        random_(self.w_down, gen, std=std)
        for p in (self.b_up, self.b_down):
            if p is not None:
                p.zero_()

    def forward(self, x: Tensor, cache=None, step=None) -> Tensor:
        xf = x.reshape(-1, x.shape[-1])
        top, idx = self.router(xf).topk(self.k, dim=-1)
        gates = top.float().softmax(-1).to(x.dtype).flatten()
        xr = self.latent_down(xf) if self.latent_down is not None else xf
        flat = idx.flatten()
        order = flat.argsort()
        counts = torch.bincount(flat, minlength=self.w_up.shape[0]).tolist()  # host sync
        token = order // self.k
        xs = xr.index_select(0, token)
        ys = torch.empty_like(xs)
        lo = 0
        for e, n in enumerate(counts):
            if not n:
                continue
            seg, out = xs[lo : lo + n], ys[lo : lo + n]
            h = seg @ self.w_up[e] if self.b_up is None else torch.addmm(self.b_up[e], seg, self.w_up[e])
            h = ops.activation(h, self.kind)
            if self.b_down is None:
                torch.mm(h, self.w_down[e], out=out)
            else:
                torch.addmm(self.b_down[e], h, self.w_down[e], out=out)
            lo += n
        ys.mul_(gates.index_select(0, order).unsqueeze(-1))
        y = torch.zeros_like(xr).index_add_(0, token, ys)
        if self.latent_up is not None:
            y = self.latent_up(y)
        if self.shared is not None:
            y = y + self.shared(xf)
        return y.view(x.shape)
