"""GEMM sweeps over the shapes LLM layers launch, and MoE grouped GEMMs (plain torch, as the
validation model runs them: one matmul per expert that received tokens)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from perfsim.calibrate.cases import TORCH_DTYPES, BenchContext, Case, randn
from perfsim.units import DTYPE_BYTES

#: (n, k) of real projections: small validation models (hidden 512) and Llama-3.1-8B (hidden 4096).
_CPU_NK = [(1536, 512), (3072, 512), (512, 1536), (1024, 512), (32000, 512)]
_GPU_NK = [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336), (128256, 4096), (3072, 512)]


def _linear(m: int, n: int, k: int, dtype: str, device: str):
    def make():
        a, w = randn((m, k), dtype, device), randn((n, k), dtype, device)
        return lambda: F.linear(a, w)
    return make


def _fp8_linear(m: int, n: int, k: int, device: str):
    """torch._scaled_mm: fp8 x fp8 with per-tensor scales (Ada/Hopper and newer)."""
    def make():
        a = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
        w = torch.randn(n, k, device=device).to(torch.float8_e4m3fn)
        one = torch.ones((), device=device)
        return lambda: torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    return make


def _case(m, n, k, dtype, ctx: BenchContext) -> Case:
    b = DTYPE_BYTES[dtype]
    make = _fp8_linear(m, n, k, ctx.device) if dtype == "fp8" else _linear(m, n, k, dtype, ctx.device)
    return Case("gemm", "linear", {"m": m, "n": n, "k": k, "dtype": dtype}, make,
                bytes_per_call=(m * k + n * k) * b + m * n * (2 if dtype == "fp8" else b),
                flops=2.0 * m * n * k)


def gemm_cases(ctx: BenchContext) -> list[Case]:
    gpu = ctx.device.startswith("cuda")
    ms: tuple[int, ...]
    squares: tuple[int, ...]
    if gpu:
        ms, nks, squares = (1, 8, 32, 128, 512, 2048, 8192), _GPU_NK, (1024, 2048, 4096, 8192)
        if ctx.quick:
            ms, nks, squares = (1, 32, 512, 4096), _GPU_NK[:3], (2048, 8192)
    else:
        ms, nks, squares = (1, 2, 4, 8, 16, 64, 256, 1024), _CPU_NK, (256, 512, 1024, 2048)
        if ctx.quick:
            ms, nks, squares = (1, 4, 16, 128, 512), _CPU_NK, (256, 1024, 2048)
    cases = []
    for dtype in ctx.dtypes:
        cases += [_case(m, n, k, dtype, ctx) for m in ms for n, k in nks]
        cases += [_case(s, s, s, dtype, ctx) for s in squares]
    return cases


def _grouped(rows: int, n: int, k: int, groups: int, dtype: str, device: str):
    def make():
        xs = [randn((rows, k), dtype, device) for _ in range(groups)]
        ws = [randn((n, k), dtype, device) for _ in range(groups)]
        return lambda: [F.linear(x, w) for x, w in zip(xs, ws, strict=True)]
    return make


def moe_cases(ctx: BenchContext) -> list[Case]:
    """Grouped GEMMs of routed experts; a held-out check of the GEMM fit (not fitted themselves)."""
    dtype = ctx.dtypes[0]
    if ctx.device.startswith("cuda"):
        shapes = [(rows, 1536, 2048, 32) for rows in (1, 16, 128, 1024)]
    else:
        shapes = [(rows, 1024, 512, 8) for rows in (1, 16, 128)]
    b = DTYPE_BYTES[dtype]
    return [
        Case("moe", "grouped_linear", {"m": r, "n": n, "k": k, "groups": g, "dtype": dtype},
             _grouped(r, n, k, g, dtype, ctx.device),
             bytes_per_call=g * (r * k + n * k + r * n) * b, flops=2.0 * g * r * n * k)
        for r, n, k, g in shapes
    ]


def supported_dtypes(device: str, quick: bool) -> tuple[str, ...]:
    """Matrix dtypes worth measuring: fp32 on CPU (bf16 too in a full run), bf16/fp16 on CUDA and
    fp8 where the tensor cores have it (compute capability >= 8.9)."""
    if not device.startswith("cuda"):
        return ("fp32",) if quick else ("fp32", "bf16")
    major, minor = torch.cuda.get_device_capability(torch.device(device))
    dtypes = ["bf16"] if quick else ["bf16", "fp16"]
    if (major, minor) >= (8, 9) and not quick:
        dtypes.append("fp8")
    return tuple(d for d in dtypes if d == "fp8" or d in TORCH_DTYPES)
