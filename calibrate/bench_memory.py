"""Memory bandwidth (copy, read, write) at sizes across the last-level cache, and the
bandwidth-bound kernels of a layer (residual add, SiLU, RMSNorm) at token x hidden shapes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from perfsim.calibrate.cases import BenchContext, Case, randn
from perfsim.units import DTYPE_BYTES


def _stream(kind: str, n: int, dtype: str, device: str):
    def make():
        src = randn((n,), dtype, device)
        if kind == "read":
            return lambda: torch.sum(src)
        dst = torch.empty_like(src)
        return (lambda: dst.copy_(src)) if kind == "copy" else (lambda: dst.fill_(0.5))
    return make


def _rows(kind: str, tokens: int, width: int, dtype: str, device: str):
    def make():
        x, y = randn((tokens, width), dtype, device), randn((tokens, width), dtype, device)
        weight = randn((width,), dtype, device)
        if kind == "add":
            return lambda: x + y
        if kind == "silu":
            return lambda: F.silu(x)
        return lambda: F.rms_norm(x, (width,), weight, 1e-6)
    return make


def memory_cases(ctx: BenchContext) -> list[Case]:
    dtype = "fp32" if "fp32" in ctx.dtypes else ctx.dtypes[0]
    b = DTYPE_BYTES[dtype]
    top = 2 * 2**30 if ctx.device.startswith("cuda") else 256 * 2**20
    per_decade = 2 if ctx.quick else 4
    sizes = np.unique(np.geomspace(64 * 2**10, top, int(np.log10(top / 2**16) * per_decade) + 1)
                      .astype(np.int64) // 4096 * 4096)
    cases = []
    for nbytes in sizes:
        n = int(nbytes // b)
        for kind, (r, w) in {"copy": (1, 1), "read": (1, 0), "write": (0, 1)}.items():
            cases.append(Case("memory", kind, {"bytes_read": r * n * b, "bytes_written": w * n * b,
                                               "dtype": dtype},
                              _stream(kind, n, dtype, ctx.device), bytes_per_call=(r + w) * n * b))
    width = 4096 if ctx.device.startswith("cuda") else 512
    tokens = (1, 16, 256, 4096) if ctx.quick else (1, 4, 16, 64, 256, 1024, 4096, 16384)
    for kind, reads in {"add": 2, "silu": 1, "rms_norm": 1}.items():
        for t in tokens:
            elems = t * width
            weight = width * b if kind == "rms_norm" else 0
            cases.append(Case("memory", kind, {"bytes_read": reads * elems * b + weight,
                                               "bytes_written": elems * b, "dtype": dtype},
                              _rows(kind, t, width, dtype, ctx.device),
                              bytes_per_call=(reads + 1) * elems * b))
    return cases
