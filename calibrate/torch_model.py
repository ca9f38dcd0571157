"""A real torch LM with random weights built from a perfsim ModelSpec, to time prefill and decode.

The module layout follows what perfsim prices and perfsim.cost.params counts: one fused QKV GEMM per
attention layer, one fused gate/up GEMM per gated MLP, one in_proj per Mamba2 / linear-attention
layer, grouped B/C never expanded to heads, a preallocated cache written in place, and logits only
for the last position. Parameter counts equal `perfsim.model_params(spec).total`.

The operators live in `calibrate.torch_mixers` (attention, Mamba2, linear attention, with the
semantic choices that matter when comparing with perfsim) and `calibrate.torch_ffn` (MLP, MoE);
this module stacks them. `prefix_tokens` (meta tokens) are not prepended: prepend them to the
prompt if wanted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from perfsim.calibrate import torch_ops as ops
from perfsim.calibrate.torch_ffn import MLP, MoE, random_
from perfsim.calibrate.torch_mixers import (
    EPS,
    Attention,
    AttentionCache,
    LinearAttention,
    Mamba2,
    RecurrentCache,
    Step,
)
from perfsim.calibrate.torch_mla import LatentCache, MLAttention
from perfsim.layers import layer_kind
from perfsim.spec.model import ModelSpec

__all__ = ["AttentionCache", "Cache", "LatentCache", "RecurrentCache", "TorchLM", "build_torch_model",
           "count_parameters", "torch_operator"]


@dataclass
class Cache:
    batch: int
    max_len: int
    layers: list[AttentionCache | LatentCache | RecurrentCache | None]
    rope: dict[int, tuple[Tensor, Tensor]]  # head_dim -> cos, signed sin [max_len, head_dim]

    def nbytes(self) -> int:
        """Bytes of KV, conv and recurrent state (RoPE tables excluded)."""
        tensors = [t for lc in self.layers if lc is not None for t in vars(lc).values() if t is not None]
        return sum(t.numel() * t.element_size() for t in tensors)


class Norm(nn.Module):
    """The model's RMSNorm or LayerNorm (weight, plus bias for LayerNorm)."""

    def __init__(self, width: int, kind: str):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(width))
        self.bias = nn.Parameter(torch.empty(width)) if kind == "layernorm" else None

    def _init_own(self, gen, std):
        self.weight.fill_(1.0)
        if self.bias is not None:
            self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if self.bias is None:
            return ops.rms_norm(x, self.weight, EPS)
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, EPS)


#: The torch module of each perfsim layer kind (keyed by its registered name), built as f(spec, hidden).
_OPERATORS: dict[str, Callable[[Any, int], nn.Module]] = {
    "attention": Attention,
    "mla": MLAttention,
    "mlp": lambda spec, hidden: MLP(hidden, spec.intermediate_size, spec.activation, spec.bias),
    "moe": MoE,
    "mamba2": Mamba2,
    "linear_attention": LinearAttention,
    "linear": lambda spec, hidden: LinearProjection(hidden, spec.bias),
}


def torch_operator(spec, hidden: int) -> nn.Module:
    """The torch module of one sublayer's operator (pre-norm excluded)."""
    kind = layer_kind(spec).name
    if kind not in _OPERATORS:
        raise NotImplementedError(f"layer kind {kind!r} has no torch module in calibrate/torch_model.py")
    return _OPERATORS[kind](spec, hidden)


@runtime_checkable
class _Cached(Protocol):
    """An operator that keeps per-sequence tensors (KV, latent, conv tail or recurrent state)."""

    def new_cache(self, batch: int, max_len: int, device: torch.device,
                  dtype: torch.dtype) -> AttentionCache | LatentCache | RecurrentCache: ...


@runtime_checkable
class _Rotary(Protocol):
    """An operator that reads the RoPE tables of width `rope_dim`."""

    rope_dim: int


@runtime_checkable
class _SelfInit(Protocol):
    """A module that initialises its own non-Linear parameters (norms, decays, sinks...)."""

    def _init_own(self, gen: torch.Generator, std: float) -> None: ...


class LinearProjection(nn.Module):
    """Puzzle's linear replacement of an attention sublayer: one hidden x hidden projection."""

    def __init__(self, hidden: int, bias: bool):
        super().__init__()
        self.proj = nn.Linear(hidden, hidden, bias=bias)

    def forward(self, x: Tensor, cache=None, step=None) -> Tensor:
        return self.proj(x)


class Sublayer(nn.Module):
    """Pre-norm, operator, residual add."""

    def __init__(self, op: nn.Module, hidden: int, norm: str):
        super().__init__()
        self.norm = Norm(hidden, norm)
        self.op = op

    def forward(self, x: Tensor, cache, step: Step) -> Tensor:
        return x + self.op(self.norm(x), cache, step)


class TorchLM(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.vocab = spec.vocab_size
        self.embed = nn.Embedding(spec.vocab_size + spec.extra_embedding_rows, spec.hidden_size)
        self.layers = nn.ModuleList(
            Sublayer(torch_operator(op, spec.hidden_size), spec.hidden_size, spec.norm)
            for op in spec.sublayers
        )
        self.norm = Norm(spec.hidden_size, spec.norm)
        self.lm_head = (None if spec.tie_embeddings
                        else nn.Linear(spec.hidden_size, spec.vocab_size, bias=False))

    def allocate_cache(self, batch: int, max_len: int) -> Cache:
        """Zeroed KV / conv / state tensors for `batch` sequences of up to `max_len` tokens."""
        w = self.embed.weight
        layers = [
            layer.op.new_cache(batch, max_len, w.device, w.dtype) if isinstance(layer.op, _Cached) else None
            for layer in self.layers
        ]
        dims = {layer.op.rope_dim for layer in self.layers if isinstance(layer.op, _Rotary)}
        rope = {d: ops.rope_tables(max_len, d, device=w.device, dtype=w.dtype) for d in dims}
        return Cache(batch, max_len, layers, rope)

    def forward(self, tokens: Tensor, cache: Cache, start_pos: int = 0, all_logits: bool = False) -> Tensor:
        """Logits [b, vocab] of the last position ([b, t, vocab] with all_logits) for tokens [b, t]
        at positions start_pos.., writing their K/V and states into `cache`."""
        b, t = tokens.shape
        if b != cache.batch or start_pos + t > cache.max_len:
            raise ValueError(f"tokens {tuple(tokens.shape)} at {start_pos} do not fit the cache "
                             f"(batch {cache.batch}, max_len {cache.max_len})")
        step = Step(start_pos, t, cache.rope)
        x = self.embed(tokens)
        for layer, layer_cache in zip(self.layers, cache.layers, strict=True):
            x = layer(x, layer_cache, step)
        x = self.norm(x if all_logits else x[:, -1])
        head = self.embed.weight[: self.vocab] if self.lm_head is None else self.lm_head.weight
        return F.linear(x, head)


@torch.no_grad()
def _init_parameters(model: nn.Module, gen: torch.Generator, std: float) -> None:
    for m in model.modules():
        if isinstance(m, nn.Linear | nn.Embedding):
            random_(m.weight, gen, std=std)
            bias = getattr(m, "bias", None)  # nn.Embedding has none
            if bias is not None:
                bias.zero_()
        if isinstance(m, _SelfInit):
            m._init_own(gen, std)


def build_torch_model(spec: ModelSpec, device="cpu", dtype: torch.dtype = torch.float32, seed: int = 0,
                      std: float = 0.02) -> TorchLM:
    """Random-weight TorchLM for `spec` on `device`, in eval mode with gradients off.

    Built on the meta device and materialised once on the target (no CPU detour, no double
    init); weights ~ N(0, std), norms 1, Mamba2 A/dt as in mamba_ssm. Same seed, device and
    dtype give the same weights.
    """
    with torch.device("meta"):
        model = TorchLM(spec)
    model = model.to(dtype=dtype).to_empty(device=device)
    gen = torch.Generator(device=device).manual_seed(seed)
    _init_parameters(model, gen, std)
    return model.eval().requires_grad_(False)


def count_parameters(model: nn.Module) -> int:
    """Distinct parameters (a tied lm_head reuses the embedding and is counted once)."""
    return sum(p.numel() for p in model.parameters())
