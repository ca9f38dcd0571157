"""Fused attention through torch SDPA (flash / memory-efficient / CPU flash backends, whichever
torch picks) for prefill and KV-cached decode shapes, including sliding-window decode (the window
of newest keys is what a windowed decode kernel reads)."""

from __future__ import annotations

import torch.nn.functional as F

from perfsim.calibrate.cases import BenchContext, Case, randn
from perfsim.ops.attention import visible_keys
from perfsim.units import DTYPE_BYTES


def _sdpa(batch, heads, kv_heads, q_len, kv_len, head_dim, causal, dtype, device):
    def make():
        q = randn((batch, heads, q_len, head_dim), dtype, device)
        k = randn((batch, kv_heads, kv_len, head_dim), dtype, device)
        v = randn((batch, kv_heads, kv_len, head_dim), dtype, device)
        return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                                      enable_gqa=heads != kv_heads)
    return make


def _case(phase, batch, q_len, kv_len, heads, kv_heads, head_dim, dtype, ctx, window=None) -> Case:
    keys = kv_len if window is None else min(kv_len, window)
    causal = phase == "prefill"
    b = DTYPE_BYTES[dtype]
    shape = {"phase": phase, "batch": batch, "q_len": q_len, "kv_len": kv_len, "num_heads": heads,
             "num_kv_heads": kv_heads, "head_dim": head_dim, "window": window, "dtype": dtype}
    flops = 4.0 * head_dim * batch * heads * float(visible_keys(q_len, kv_len, window, causal))
    return Case("attention", f"sdpa_{phase}", shape,
                _sdpa(batch, heads, kv_heads, q_len, keys, head_dim, causal, dtype, ctx.device),
                bytes_per_call=batch * (2 * heads * q_len + 2 * kv_heads * keys) * head_dim * b,
                flops=flops)


def attention_cases(ctx: BenchContext) -> list[Case]:
    dtype = ctx.dtypes[0]
    if ctx.device.startswith("cuda"):
        heads, kv_heads, d = 32, 8, 128
        prefill = [(1, 512), (1, 2048), (1, 8192), (4, 2048), (16, 1024)]
        decode = [(b, kv) for b in (1, 8, 64) for kv in (1024, 8192, 32768)]
        windows = [(8, 32768, 4096), (64, 8192, 1024)]
    else:
        heads, kv_heads, d = 8, 4, 64
        prefill = [(1, 128), (1, 512), (1, 2048), (4, 256)]
        decode = [(b, kv) for b in (1, 4, 16) for kv in (256, 1024, 4096)]
        windows = [(4, 4096, 512)]
    if ctx.quick:
        prefill, decode = prefill[:4], decode[::2]
    cases = [_case("prefill", b, s, s, heads, kv_heads, d, dtype, ctx) for b, s in prefill]
    cases += [_case("decode", b, 1, kv, heads, kv_heads, d, dtype, ctx) for b, kv in decode]
    cases += [_case("decode", b, 1, kv, heads, kv_heads, d, dtype, ctx, window=w) for b, kv, w in windows]
    return cases
