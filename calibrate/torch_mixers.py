"""The torch validation model's token mixers (attention, Mamba2, linear attention) and their caches.

Each mixer owns its cache layout (`new_cache`) and writes it in place, so a decode step allocates
nothing. Semantic choices worth knowing when comparing measured latency with perfsim:
- Sliding-window layers keep a full-length KV cache; attention reads only the last `window` keys
  (a strided view, no copy). A fresh prefill within the window uses SDPA `is_causal`; a prefill
  longer than the window, or one after cached tokens, passes an explicit boolean mask (no flash
  kernel on CUDA), with each KV head's query group folded into the query rows instead of GQA.
- Attention sinks (gpt-oss) use an unfused matmul/softmax path.
- DeltaNet / Gated DeltaNet prefill runs in fp32 and passes the state between chunks in a Python
  loop (about 7 ops per chunk); GLA and Mamba2 prefill use a fixed number of ops at any length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from perfsim.calibrate import torch_ops as ops
from perfsim.calibrate.torch_ffn import random_
from perfsim.layers.attention import AttentionSpec
from perfsim.layers.linear_attention import GLA_GATE_RANK, LinearAttentionSpec
from perfsim.layers.mamba2 import Mamba2Spec

EPS = 1e-5
#: fla's GLA divides the log-sigmoid forget gate by this.
GLA_GATE_NORMALIZER = 16.0


@dataclass
class AttentionCache:
    k: Tensor  # [b, kv_heads, max_len, head_dim], written at absolute positions
    v: Tensor


@dataclass
class RecurrentCache:
    conv: Tensor | None  # [b, channels, conv_kernel - 1]: the last inputs of the short conv
    state: Tensor  # fp32 [b, h, p, n] (Mamba2) or [b, h, dk, dv] (linear attention)


@dataclass
class Step:
    """One forward call's position bookkeeping, shared by its sublayers."""

    start: int
    t: int
    rope: dict[int, tuple[Tensor, Tensor]]  # head_dim -> cos, signed sin [max_len, head_dim]
    masks: dict = field(default_factory=dict)

    @property
    def fresh(self) -> bool:
        """A new sequence: recurrent layers start from zero state, not the cache's."""
        return self.start == 0

    def mask(self, lo: int, window: int | None, device, groups: int = 1) -> Tensor:
        """Boolean [groups * t, end - lo] mask (True = attend) for queries start.. (tiled `groups`
        times) over keys lo..end-1; built once per forward call and shared by the layers."""
        key = (lo, window, groups)
        if key not in self.masks:
            qpos = torch.arange(self.start, self.start + self.t, device=device).repeat(groups)[:, None]
            kpos = torch.arange(lo, self.start + self.t, device=device)[None]
            allowed = kpos <= qpos
            if window is not None:
                allowed &= kpos > qpos - window
            self.masks[key] = allowed
        return self.masks[key]


class Attention(nn.Module):
    """GQA softmax attention: fused QKV GEMM, optional QK-norm, RoPE on q and k together, in-place
    KV write, SDPA over the cached keys (the last `window` of them for sliding-window layers)."""

    def __init__(self, spec: AttentionSpec, hidden: int):
        super().__init__()
        self.hq, self.hkv, self.d, self.window = spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.window
        self.rope_dim = self.d  # RoPE tables the cache builds for this layer
        self.qkv = nn.Linear(hidden, (self.hq + 2 * self.hkv) * self.d, bias=spec.qkv_bias)
        self.o = nn.Linear(self.hq * self.d, hidden, bias=spec.o_bias)
        self.q_norm = nn.Parameter(torch.empty(self.d)) if spec.qk_norm else None
        self.k_norm = nn.Parameter(torch.empty(self.d)) if spec.qk_norm else None
        self.sinks = nn.Parameter(torch.empty(self.hq)) if spec.sinks else None

    def _init_own(self, gen, std):
        for p in (self.q_norm, self.k_norm):
            if p is not None:
                p.fill_(1.0)
        if self.sinks is not None:
            random_(self.sinks, gen, std=1.0)

    def new_cache(self, batch: int, max_len: int, device, dtype) -> AttentionCache:
        shape = (batch, self.hkv, max_len, self.d)
        return AttentionCache(torch.zeros(shape, device=device, dtype=dtype),
                              torch.zeros(shape, device=device, dtype=dtype))

    def forward(self, x: Tensor, cache: AttentionCache, step: Step) -> Tensor:
        b, t, _ = x.shape
        hq, hkv, d = self.hq, self.hkv, self.d
        start, end = step.start, step.start + t
        qkv = self.qkv(x)
        qk = qkv[..., : (hq + hkv) * d].unflatten(-1, (hq + hkv, d))
        if self.q_norm is not None:
            assert self.k_norm is not None  # spec.qk_norm creates both norms
            weight = torch.cat([self.q_norm.expand(hq, d), self.k_norm.expand(hkv, d)])
            qk = ops.rms_norm(qk, None, EPS) * weight
        cos, sin = step.rope[d]
        qk = ops.apply_rope(qk, cos[start:end], sin[start:end])
        cache.k[:, :, start:end] = qk[:, :, hq:].transpose(1, 2)
        cache.v[:, :, start:end] = qkv[..., (hq + hkv) * d :].unflatten(-1, (hkv, d)).transpose(1, 2)
        q = qk[:, :, :hq].transpose(1, 2)
        lo = 0 if self.window is None else max(0, start - self.window + 1)
        k, v = cache.k[:, :, lo:end], cache.v[:, :, lo:end]
        if self.sinks is not None:
            o = self._attend_with_sinks(q, k, v, step.mask(lo, self.window, x.device) if t > 1 else None)
        else:
            causal = t > 1 and start == 0 and (self.window is None or t <= self.window)
            if t > 1 and not causal:  # explicit mask: fold each KV head's query group into rows
                g = hq // hkv  # (masked kernels lack GQA; this avoids expanding K/V to hq heads)
                mask = step.mask(lo, self.window, x.device, groups=g)
                o = F.scaled_dot_product_attention(q.unflatten(1, (hkv, g)).flatten(2, 3), k, v,
                                                   attn_mask=mask)
                o = o.unflatten(2, (g, t)).flatten(1, 2)
            else:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=hq != hkv)
        return self.o(o.transpose(1, 2).reshape(b, t, hq * d))

    def _attend_with_sinks(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
        """gpt-oss sinks: one learned logit per head joins the softmax and is dropped after it."""
        b, hq, t, d = q.shape
        g = hq // self.hkv
        s = (q.unflatten(1, (self.hkv, g)) @ k.unsqueeze(2).transpose(-1, -2)).float() * d**-0.5
        if mask is not None:
            s = s.masked_fill(~mask, float("-inf"))
        assert self.sinks is not None  # forward() calls this only for layers with sinks
        sink = self.sinks.float().view(1, self.hkv, g, 1, 1).expand(b, -1, -1, t, 1)
        p = torch.cat([s, sink], -1).softmax(-1)[..., :-1]
        return (p.to(v.dtype) @ v.unsqueeze(2)).flatten(1, 2)


# Helpers shared by the recurrent mixers (Mamba2 and linear attention).


def _init_conv(weight: Tensor, bias: Tensor | None, gen) -> None:
    bound = weight.shape[-1] ** -0.5  # torch's default for a depthwise conv (fan_in = kernel)
    random_(weight, gen, bound=bound)
    if bias is not None:
        random_(bias, gen, bound=bound)


def _init_decay(A_log: Tensor, dt_bias: Tensor, u_a: Tensor, u_dt: Tensor) -> None:
    """mamba_ssm's init from uniform draws: A in [-16, -1], dt log-uniform in [1e-3, 0.1] stored as
    its inverse softplus."""
    A_log.copy_(torch.log(1.0 + 15.0 * u_a))
    dt = torch.exp(u_dt * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))


def _recurrent_cache(conv_w: Tensor | None, state_shape: tuple, batch: int, device, dtype) -> RecurrentCache:
    """Zeroed conv tail (none without a conv or with kernel 1) and fp32 state."""
    conv = None
    if conv_w is not None and conv_w.shape[-1] > 1:
        conv = torch.zeros(batch, conv_w.shape[0], conv_w.shape[-1] - 1, device=device, dtype=dtype)
    return RecurrentCache(conv, torch.zeros(batch, *state_shape, device=device, dtype=torch.float32))


def _short_conv(x: Tensor, weight: Tensor, bias: Tensor | None, cache: RecurrentCache, step: Step) -> Tensor:
    y, tail = ops.causal_conv1d(x, weight, bias, None if step.fresh else cache.conv)
    if cache.conv is not None:
        assert tail is not None  # the cache keeps a conv tail only for kernels > 1, which return one
        cache.conv.copy_(tail)
    return F.silu(y)


def _initial_state(cache: RecurrentCache, step: Step, t: int) -> Tensor | None:
    """The state a prefill continues from (None = zeros for a new sequence). A decode step updates
    the cache's state in place, so a fresh one zeroes it first."""
    if step.fresh and t == 1:
        cache.state.zero_()
    return None if step.fresh else cache.state


class Mamba2(nn.Module):
    """mamba_ssm's Mamba2 mixer: in_proj -> [z | x B C | dt], causal conv + SiLU on x B C, SSD
    scan (chunked for prefill, one step for decode), D skip, gated RMSNorm with z, out_proj."""

    def __init__(self, spec: Mamba2Spec, hidden: int):
        super().__init__()
        self.h, self.p, self.n, self.g = spec.num_heads, spec.head_dim, spec.state_size, spec.n_groups
        self.chunk = spec.chunk_size
        self.d_inner = self.h * self.p
        channels = self.d_inner + 2 * self.g * self.n
        self.in_proj = nn.Linear(hidden, self.d_inner + channels + self.h, bias=spec.proj_bias)
        self.conv_w = nn.Parameter(torch.empty(channels, 1, spec.conv_kernel))
        self.conv_b = nn.Parameter(torch.empty(channels)) if spec.conv_bias else None
        self.dt_bias = nn.Parameter(torch.empty(self.h))
        self.A_log = nn.Parameter(torch.empty(self.h))
        self.D = nn.Parameter(torch.empty(self.h))
        self.norm_w = nn.Parameter(torch.empty(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, hidden, bias=spec.proj_bias)

    def _init_own(self, gen, std):
        _init_conv(self.conv_w, self.conv_b, gen)
        u = torch.rand(2, self.h, generator=gen, device=gen.device)
        _init_decay(self.A_log, self.dt_bias, u_a=u[1], u_dt=u[0])
        self.D.fill_(1.0)
        self.norm_w.fill_(1.0)

    def new_cache(self, batch: int, max_len: int, device, dtype) -> RecurrentCache:
        return _recurrent_cache(self.conv_w, (self.h, self.p, self.n), batch, device, dtype)

    def forward(self, x: Tensor, cache: RecurrentCache, step: Step) -> Tensor:
        di, gn = self.d_inner, self.g * self.n
        z, xbc, dt = self.in_proj(x).split([di, di + 2 * gn, self.h], -1)
        xs, B, C = _short_conv(xbc, self.conv_w, self.conv_b, cache, step).split([di, gn, gn], -1)
        xs = xs.unflatten(-1, (self.h, self.p))
        B, C = B.unflatten(-1, (self.g, self.n)), C.unflatten(-1, (self.g, self.n))
        dt = F.softplus(dt.float() + self.dt_bias.float())
        A = -self.A_log.float().exp()
        initial = _initial_state(cache, step, x.shape[1])
        if x.shape[1] == 1:
            y = ops.mamba2_step(xs[:, 0], dt[:, 0], A, B[:, 0], C[:, 0], cache.state)[0].unsqueeze(1)
        else:
            y, final = ops.mamba2_chunked_scan(xs, dt, A, B, C, self.chunk, initial)
            cache.state.copy_(final)
        y = torch.addcmul(y, xs, self.D.view(self.h, 1)).flatten(-2)  # D skip
        return self.out_proj(ops.gated_rms_norm(y, z, self.norm_w, di // self.g, EPS))


class LinearAttention(nn.Module):
    """GLA, DeltaNet or Gated DeltaNet (fla layouts) with one fused input projection.

    in_proj = [q | k | v | gate inputs | output gate]; the gate inputs are GLA's rank-16 forget-gate
    bottleneck (then a rank -> qk up-projection with bias), DeltaNet's beta, or Gated DeltaNet's beta
    and alpha. Short conv + SiLU on q, k, v; delta-rule variants L2-normalise q and k.
    """

    def __init__(self, spec: LinearAttentionSpec, hidden: int):
        super().__init__()
        self.variant, self.chunk = spec.variant, spec.chunk_size
        self.h, self.dk, self.dv = spec.num_heads, spec.head_k_dim, spec.head_v_dim
        qk, v = self.h * self.dk, self.h * self.dv
        gate_in = {"gla": GLA_GATE_RANK, "deltanet": self.h, "gated_deltanet": 2 * self.h}[spec.variant]
        self.widths = [2 * qk + v, gate_in, v if spec.output_gate else 0]
        self.in_proj = nn.Linear(hidden, sum(self.widths), bias=False)
        self.gk_up = nn.Linear(GLA_GATE_RANK, qk, bias=True) if spec.variant == "gla" else None
        self.A_log = nn.Parameter(torch.empty(self.h)) if spec.variant == "gated_deltanet" else None
        self.dt_bias = nn.Parameter(torch.empty(self.h)) if spec.variant == "gated_deltanet" else None
        self.conv_w = nn.Parameter(torch.empty(2 * qk + v, 1, spec.conv_kernel)) if spec.conv_kernel else None
        self.o_norm = nn.Parameter(torch.empty(self.dv))
        self.o_proj = nn.Linear(v, hidden, bias=False)

    def _init_own(self, gen, std):
        if self.conv_w is not None:
            _init_conv(self.conv_w, None, gen)
        if self.A_log is not None:
            u = torch.rand(2, self.h, generator=gen, device=gen.device)
            _init_decay(self.A_log, self.dt_bias, u_a=u[0], u_dt=u[1])
        self.o_norm.fill_(1.0)

    def new_cache(self, batch: int, max_len: int, device, dtype) -> RecurrentCache:
        return _recurrent_cache(self.conv_w, (self.h, self.dk, self.dv), batch, device, dtype)

    def forward(self, x: Tensor, cache: RecurrentCache, step: Step) -> Tensor:
        h, dk, dv = self.h, self.dk, self.dv
        qkv, gate_in, out_gate = self.in_proj(x).split(self.widths, -1)
        if self.conv_w is not None:
            qkv = _short_conv(qkv, self.conv_w, None, cache, step)
        qk, v = qkv.split([2 * h * dk, h * dv], -1)
        qk, v = qk.unflatten(-1, (2 * h, dk)), v.unflatten(-1, (h, dv))
        if self.variant != "gla":  # L2 norm of q and k in one op: rmsnorm / sqrt(dk)
            qk = ops.rms_norm(qk, None, 1e-6) * dk**-0.5
        q, k = qk[..., :h, :], qk[..., h:, :]
        initial = _initial_state(cache, step, x.shape[1])
        if self.variant == "gla":
            assert self.gk_up is not None  # built for the gla variant
            g = F.logsigmoid(self.gk_up(gate_in).float()).div_(GLA_GATE_NORMALIZER).unflatten(-1, (h, dk))
            if x.shape[1] == 1:
                o = ops.gla_step(q[:, 0], k[:, 0], v[:, 0], g[:, 0], cache.state)[0].unsqueeze(1)
            else:
                o, final = ops.gla_chunked(q, k, v, g, self.chunk, initial)
        else:
            beta = torch.sigmoid(gate_in[..., :h].float())
            g = None
            if self.A_log is not None:
                assert self.dt_bias is not None  # gated_deltanet builds A_log and dt_bias together
                g = -self.A_log.float().exp() * F.softplus(gate_in[..., h:].float() + self.dt_bias.float())
            if x.shape[1] == 1:
                o = ops.delta_rule_step(q[:, 0], k[:, 0], v[:, 0], beta[:, 0], None if g is None else g[:, 0],
                                        cache.state)[0].unsqueeze(1)
            else:
                o, final = ops.delta_rule_chunked(q, k, v, beta, g, self.chunk, initial)
        if x.shape[1] > 1:
            cache.state.copy_(final)
        o = ops.rms_norm(o, self.o_norm, EPS)
        if self.widths[2]:
            o = o * F.silu(out_gate).unflatten(-1, (h, dv))
        return self.o_proj(o.flatten(-2))
