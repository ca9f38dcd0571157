"""Recurrent scans in plain torch, the same functions the validation model runs: the Mamba2 SSD
chunked scan (prefill) and one-token state update (decode), and chunked gated linear attention."""

from __future__ import annotations

from typing import Literal

import torch

from perfsim.calibrate.cases import BenchContext, Case, randn
from perfsim.calibrate.torch_ops import gla_chunked, mamba2_chunked_scan, mamba2_step
from perfsim.ops import LinearAttention, Mamba2

_STATE = torch.float32


def _mamba2(phase, batch, seq_len, heads, head_dim, state, groups, chunk, dtype, device):
    def make():
        a = -torch.rand(heads, device=device, dtype=_STATE) - 0.5
        if phase == "decode":
            x = randn((batch, heads, head_dim), dtype, device)
            dt = torch.rand(batch, heads, device=device, dtype=x.dtype) * 0.1
            b, c = randn((batch, groups, state), dtype, device), randn((batch, groups, state), dtype, device)
            h = torch.zeros(batch, heads, head_dim, state, device=device, dtype=_STATE)
            return lambda: mamba2_step(x, dt, a, b, c, h)
        x = randn((batch, seq_len, heads, head_dim), dtype, device)
        dt = torch.rand(batch, seq_len, heads, device=device, dtype=x.dtype) * 0.1
        b = randn((batch, seq_len, groups, state), dtype, device)
        c = randn((batch, seq_len, groups, state), dtype, device)
        return lambda: mamba2_chunked_scan(x, dt, a, b, c, chunk)
    return make


def _gla(batch, seq_len, heads, dk, dv, chunk, dtype, device):
    def make():
        q = randn((batch, seq_len, heads, dk), dtype, device)
        k = randn((batch, seq_len, heads, dk), dtype, device)
        v = randn((batch, seq_len, heads, dv), dtype, device)
        decay = -torch.rand(batch, seq_len, heads, dk, device=device, dtype=q.dtype) * 0.1
        return lambda: gla_chunked(q, k, v, decay, chunk)
    return make


def scan_cases(ctx: BenchContext) -> list[Case]:
    dtype = ctx.dtypes[0]
    gpu = ctx.device.startswith("cuda")
    heads, head_dim, state, groups, chunk = (128, 64, 128, 8, 256) if gpu else (16, 64, 64, 1, 64)
    prefill = [(1, 4096), (4, 4096), (1, 16384)] if gpu else [(1, 128), (1, 512), (4, 256)]
    decode = (1, 16, 256) if gpu else (1, 4, 16)
    if ctx.quick:
        prefill = prefill[:2]
    cases = []
    phases: tuple[tuple[Literal["prefill", "decode"], list[tuple[int, int]]], ...] = (
        ("prefill", prefill), ("decode", [(b, 1) for b in decode]))
    for phase, shapes in phases:
        for batch, length in shapes:
            op = Mamba2(phase, batch, length, heads, head_dim, state, groups, chunk, dtype)
            shape = {"phase": phase, "batch": batch, "seq_len": length, "num_heads": heads,
                     "head_dim": head_dim, "state_size": state, "n_groups": groups,
                     "chunk_size": chunk, "dtype": dtype}
            cases.append(Case("scan", f"mamba2_{phase}", shape,
                              _mamba2(phase, batch, length, heads, head_dim, state, groups, chunk,
                                      dtype, ctx.device),
                              bytes_per_call=float(op.cost().bytes), flops=float(op.cost().flops)))
    gla_heads, dk, dv, gla_chunk = (16, 128, 256, 64) if gpu else (8, 64, 64, 64)
    for batch, length in prefill[:2]:
        gla = LinearAttention("prefill", batch, length, gla_heads, dk, dv, "gla", gla_chunk, dtype)
        shape = {"phase": "prefill", "batch": batch, "seq_len": length, "num_heads": gla_heads,
                 "head_k_dim": dk, "head_v_dim": dv, "chunk_size": gla_chunk, "dtype": dtype}
        cases.append(Case("scan", "gla_prefill", shape,
                          _gla(batch, length, gla_heads, dk, dv, gla_chunk, dtype, ctx.device),
                          bytes_per_call=float(gla.cost().bytes), flops=float(gla.cost().flops)))
    return cases
