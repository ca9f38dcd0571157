"""Plain-torch operators of the validation model, shared with the microbenchmarks.

Each function is one operator as a serving engine launches it, written with as few torch ops as
its algorithm allows (no Python loops over tokens), so that measured time reflects the work perfsim
prices rather than interpreter overhead. Layouts are token-major ([batch, time, heads, dim]), as
the projections produce them. Recurrent states are fp32; products run in the input dtype with
fp32 decays, as the fused kernels do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def rms_norm(x: Tensor, weight: Tensor | None, eps: float = 1e-5) -> Tensor:
    """RMSNorm over the last dim: one fused torch kernel (weight None = no scale)."""
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


def gated_rms_norm(y: Tensor, z: Tensor, weight: Tensor, group_size: int, eps: float = 1e-5) -> Tensor:
    """Mamba2's RMSNormGated (gate before norm): rmsnorm(y * silu(z)) per group of channels."""
    y = y * F.silu(z)
    if group_size == y.shape[-1]:
        return F.rms_norm(y, (group_size,), weight, eps)
    return F.rms_norm(y.unflatten(-1, (-1, group_size)), (group_size,), None, eps).flatten(-2) * weight


def activation(x: Tensor, kind: str) -> Tensor:
    """MLP activation; gated kinds take the fused [gate | up] projection and halve its width."""
    if kind in ("swiglu", "geglu"):
        gate, up = x.chunk(2, dim=-1)
        return (F.silu(gate) if kind == "swiglu" else F.gelu(gate, approximate="tanh")) * up
    if kind == "gelu":
        return F.gelu(x, approximate="tanh")
    if kind == "relu2":
        return F.relu(x).square()
    if kind == "silu":
        return F.silu(x)
    raise ValueError(f"unknown activation {kind!r}")


def rope_tables(max_len: int, head_dim: int, theta: float = 10000.0, device=None,
                dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """cos and signed sin [max_len, head_dim] for rotate-half RoPE, built once per cache, not per step."""
    inv_freq = theta ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(max_len, device=device, dtype=torch.float32), inv_freq)
    cos, sin = angles.cos(), angles.sin()
    return torch.cat([cos, cos], -1).to(dtype), torch.cat([-sin, sin], -1).to(dtype)


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate x [b, t, heads, d] by table rows cos/sin [t, d] in three ops (mul, flip, addcmul).

    The flip of the two halves is rotate_half up to the sign, which the signed sin table carries.
    Apply it once to the concatenated q and k heads.
    """
    rotated = x.unflatten(-1, (2, -1)).flip(-2).flatten(-2)
    return torch.addcmul(x * cos[:, None], rotated, sin[:, None])


def causal_conv1d(x: Tensor, weight: Tensor, bias: Tensor | None,
                  state: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Depthwise causal conv over time: x [b, t, ch], weight [ch, 1, k] -> (y [b, t, ch], new state).

    state [b, ch, k-1] holds the previous k-1 inputs (None: a fresh sequence, zero history); the
    returned state is a view of the padded input that the caller copies into its cache. Prefill and
    decode share this path: one pad/cat and one grouped conv1d.
    """
    k = weight.shape[-1]
    xt = x.transpose(1, 2)
    if k == 1:
        return F.conv1d(xt, weight, bias, groups=x.shape[-1]).transpose(1, 2), None
    xp = F.pad(xt, (k - 1, 0)) if state is None else torch.cat([state, xt], -1)
    return F.conv1d(xp, weight, bias, groups=x.shape[-1]).transpose(1, 2), xp[..., -(k - 1):]


def _pad_time(t: Tensor, pad: int) -> Tensor:
    """Zero-pad dim 1 (time) at the end; zero dt / decay / input leaves the recurrences unchanged."""
    return F.pad(t, (0, 0) * (t.dim() - 2) + (0, pad)) if pad else t


def _chunking(seq: int, chunk_size: int) -> tuple[int, int, int]:
    """(chunk length, time padding, chunk count): a sequence shorter than a chunk is one chunk."""
    q = min(chunk_size, seq)
    pad = -seq % q
    return q, pad, (seq + pad) // q


def _decay_matrix(cs: Tensor) -> Tensor:
    """exp(cs[..., i] - cs[..., j]) for j <= i, else 0: decay from position j to i over the last dim."""
    n = cs.shape[-1]
    causal = torch.ones(n, n, dtype=torch.bool, device=cs.device).tril()
    return (cs.unsqueeze(-1) - cs.unsqueeze(-2)).masked_fill(~causal, float("-inf")).exp()


def mamba2_chunked_scan(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, chunk_size: int,
                        initial_state: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Mamba2 SSD forward (Dao & Gu 2024, ssd_minimal) without loops over tokens or chunks.

    x [b, l, h, p]; dt [b, l, h] (softplus'ed, fp32); A [h] (negative); B, C [b, l, g, n] shared by
    h/g heads each (never expanded to heads). Returns y [b, l, h, p] (no D skip, no gating) and the
    fp32 state [b, h, p, n] after the last token. l need not be a multiple of chunk_size.
    """
    b, seq, h, p = x.shape
    g, n = B.shape[-2:]
    r = h // g
    q, pad, c = _chunking(seq, chunk_size)
    dtype = x.dtype
    xdt = _pad_time((x * dt.unsqueeze(-1)).to(dtype), pad).view(b, c, q, g, r, p)
    B = _pad_time(B, pad).view(b, c, q, g, n)
    C = _pad_time(C, pad).view(b, c, q, g, n)
    a = _pad_time(dt * A, pad).view(b, c, q, g, r).permute(0, 1, 3, 4, 2).cumsum(-1)  # [b, c, g, r, q]
    # 1. within each chunk: masked, decayed C B^T applied to the inputs (the "attention" form)
    cb = torch.einsum("bclgn,bcsgn->bcgls", C, B)
    y = torch.einsum("bcgrls,bcsgrp->bclgrp", (_decay_matrix(a) * cb.unsqueeze(3)).to(dtype), xdt)
    # 2. each chunk's own final state (zero initial state)
    decay_to_end = (a[..., -1:] - a).exp().permute(0, 1, 4, 2, 3).unsqueeze(-1)  # [b, c, q, g, r, 1]
    states = torch.einsum("bcsgrp,bcsgn->bcgrpn", (xdt * decay_to_end).to(dtype), B).float()
    # 3. pass states across chunks: one decay-matrix product instead of a loop over chunks
    s0 = (x.new_zeros(b, g, r, p, n, dtype=torch.float32) if initial_state is None
          else initial_state.view(b, g, r, p, n).float())
    chunk_cs = F.pad(a[..., -1].cumsum(1), (0, 0, 0, 0, 1, 0))  # [b, c+1, g, r]
    states = torch.einsum("bgrzj,bjgrpn->bzgrpn", _decay_matrix(chunk_cs.permute(0, 2, 3, 1)),
                          torch.cat([s0.unsqueeze(1), states], 1))
    # 4. contribution of the state entering each chunk
    y_off = torch.einsum("bclgn,bcgrpn->bclgrp", C, states[:, :-1].to(dtype))
    y = torch.addcmul(y, y_off, a.exp().permute(0, 1, 4, 2, 3).unsqueeze(-1).to(dtype))
    return y.reshape(b, c * q, h, p)[:, :seq], states[:, -1].reshape(b, h, p, n)


def mamba2_step(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor,
                state: Tensor) -> tuple[Tensor, Tensor]:
    """One decode token of Mamba2: h = exp(dt A) h + dt x B^T; y = h C, updating state in place.

    x [b, h, p]; dt [b, h] fp32; A [h]; B, C [b, g, n]; state fp32 [b, h, p, n]. Heads of a group
    are folded into the matrix rows, so B and C are never expanded to heads.
    """
    b, h, p = x.shape
    g, n = B.shape[-2:]
    r = h // g
    state.view(b, g, r, p * n).mul_((dt * A).exp().view(b, g, r, 1))
    rows = state.view(b, g, r * p, n)
    rows.addcmul_((x * dt.unsqueeze(-1)).view(b, g, r * p, 1), B.unsqueeze(2))
    y = rows @ C.to(state.dtype).unsqueeze(-1)
    return y.view(b, h, p).to(x.dtype), state


def _to_chunks(t: Tensor, pad: int, c: int, q: int) -> Tensor:
    """[b, l, h, d] -> [b, h, c, q, d] (head-major chunks for batched matmuls)."""
    return _pad_time(t, pad).unflatten(1, (c, q)).permute(0, 3, 1, 2, 4)


def gla_chunked(q: Tensor, k: Tensor, v: Tensor, log_decay: Tensor, chunk_size: int,
                initial_state: Tensor | None = None, scale: float | None = None) -> tuple[Tensor, Tensor]:
    """Chunked gated linear attention (GLA, per-key-dim decay): S_t = diag(a_t) S_{t-1} + k_t v_t^T.

    q, k [b, l, h, dk]; v [b, l, h, dv]; log_decay [b, l, h, dk] (<= 0, fp32); o_t = scale q_t S_t.
    Returns o [b, l, h, dv] and the fp32 state [b, h, dk, dv]. Intra-chunk decays are taken
    relative to the chunk's middle token, which keeps q exp(+) and k exp(-) finite while the
    total log decay over a chunk stays above about -170 (fp32 exponent range).
    """
    b, seq, h, dk = q.shape
    dv = v.shape[-1]
    scale = dk**-0.5 if scale is None else scale
    qn, pad, c = _chunking(seq, chunk_size)
    dtype = q.dtype
    gc = _to_chunks(log_decay.float(), pad, c, qn).cumsum(3)  # [b, h, c, q, dk] fp32
    mid, last = gc[:, :, :, qn // 2, None], gc[:, :, :, -1, None]
    qc, kc, vc = _to_chunks(q * scale, pad, c, qn), _to_chunks(k, pad, c, qn), _to_chunks(v, pad, c, qn)
    causal = torch.ones(qn, qn, dtype=torch.bool, device=q.device).tril()
    scores = (qc * (gc - mid).exp()).to(dtype) @ (kc * (mid - gc).exp()).to(dtype).transpose(-1, -2)
    o = scores.masked_fill_(~causal, 0) @ vc
    local = ((kc * (last - gc).exp()).to(dtype).transpose(-1, -2) @ vc).float()  # [b, h, c, dk, dv]
    s0 = (q.new_zeros(b, h, dk, dv, dtype=torch.float32) if initial_state is None
          else initial_state.float())
    chunk_cs = F.pad(last.squeeze(3).cumsum(2), (0, 0, 1, 0))  # [b, h, c+1, dk]
    states = torch.einsum("bhkzj,bhjkv->bhzkv", _decay_matrix(chunk_cs.transpose(-1, -2)),
                          torch.cat([s0.unsqueeze(2), local], 2))
    o = o + (qc * gc.exp()).to(dtype) @ states[:, :, :-1].to(dtype)
    return o.permute(0, 2, 3, 1, 4).reshape(b, c * qn, h, dv)[:, :seq], states[:, :, -1]


def gla_step(q: Tensor, k: Tensor, v: Tensor, log_decay: Tensor, state: Tensor,
             scale: float | None = None) -> tuple[Tensor, Tensor]:
    """One decode token of GLA (q, k, log_decay [b, h, dk]; v [b, h, dv]); state updated in place."""
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    state.mul_(log_decay.exp().unsqueeze(-1)).addcmul_(k.unsqueeze(-1), v.unsqueeze(-2))
    o = (q.to(state.dtype).unsqueeze(-2) @ state).squeeze(-2) * scale
    return o.to(q.dtype), state


def delta_rule_chunked(q: Tensor, k: Tensor, v: Tensor, beta: Tensor, log_decay: Tensor | None,
                       chunk_size: int, initial_state: Tensor | None = None,
                       scale: float | None = None) -> tuple[Tensor, Tensor]:
    """Chunked (gated) delta rule: S_t = a_t (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T.

    q, k [b, l, h, dk] (k L2-normalised by the caller); v [b, l, h, dv]; beta [b, l, h];
    log_decay [b, l, h] (Gated DeltaNet) or None (DeltaNet); o_t = scale S_t^T q_t. Within a
    chunk the WY form solves one unit-triangular system; the state passes between chunks in a
    Python loop (it enters each chunk's corrections, so it cannot be a single product).
    Returns o [b, l, h, dv] and the fp32 state [b, h, dk, dv].
    """
    b, seq, h, dk = q.shape
    dv = v.shape[-1]
    scale = dk**-0.5 if scale is None else scale
    qn, pad, c = _chunking(seq, chunk_size)
    dtype = q.dtype
    qc, kc = _to_chunks(q * scale, pad, c, qn).float(), _to_chunks(k, pad, c, qn).float()
    bc = _to_chunks(beta.unsqueeze(-1), pad, c, qn).float()  # [b, h, c, q, 1]
    vb, kb = _to_chunks(v, pad, c, qn).float() * bc, kc * bc
    if log_decay is None:
        decay = torch.ones(qn, qn, device=q.device).tril()  # exp(a_i - a_j), j <= i
        gamma = to_end = None
    else:
        a = _to_chunks(log_decay.float().unsqueeze(-1), pad, c, qn).cumsum(3)  # [b, h, c, q, 1]
        decay, gamma, to_end = _decay_matrix(a.squeeze(-1)), a.exp(), (a[:, :, :, -1:] - a).exp()
    eye = torch.eye(qn, device=q.device)
    lower = torch.tril(kb @ kc.transpose(-1, -2) * decay, -1) + eye
    t_inv = torch.linalg.solve_triangular(lower, eye.expand_as(lower), upper=False, unitriangular=True)
    u = t_inv @ vb  # [b, h, c, q, dv]
    w = t_inv @ (kb if gamma is None else kb * gamma)  # [b, h, c, q, dk]
    qk = (qc @ kc.transpose(-1, -2)) * decay  # lower-triangular incl. diagonal
    qg = qc if gamma is None else qc * gamma
    kd = kc if to_end is None else kc * to_end  # decayed to the chunk end
    state = (q.new_zeros(b, h, dk, dv, dtype=torch.float32) if initial_state is None
             else initial_state.float())  # never written in place below
    out = []
    for i in range(c):
        v_new = u[:, :, i] - w[:, :, i] @ state
        out.append(qg[:, :, i] @ state + qk[:, :, i] @ v_new)
        if gamma is not None:
            state = state * gamma[:, :, i, -1:]
        state = state + kd[:, :, i].transpose(-1, -2) @ v_new
    o = torch.stack(out, 2).to(dtype)  # [b, h, c, q, dv]
    return o.permute(0, 2, 3, 1, 4).reshape(b, c * qn, h, dv)[:, :seq], state


def delta_rule_step(q: Tensor, k: Tensor, v: Tensor, beta: Tensor, log_decay: Tensor | None,
                    state: Tensor, scale: float | None = None) -> tuple[Tensor, Tensor]:
    """One decode token of the (gated) delta rule (q, k [b, h, dk]; v [b, h, dv]; beta, log_decay
    [b, h]); state [b, h, dk, dv] updated in place."""
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    if log_decay is not None:
        state.mul_(log_decay.exp()[..., None, None])
    k32 = k.to(state.dtype)
    delta = (v - (k32.unsqueeze(-2) @ state).squeeze(-2)) * beta.unsqueeze(-1)
    state.addcmul_(k32.unsqueeze(-1), delta.unsqueeze(-2))
    o = (q.to(state.dtype).unsqueeze(-2) @ state).squeeze(-2) * scale
    return o.to(q.dtype), state
