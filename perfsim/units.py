"""SI helpers and data-type sizes: the only place that knows how wide a dtype is."""

from __future__ import annotations

from typing import Literal

DType = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"]

#: Storage bytes per element. fp4/int4 pack two values per byte; block scales are ignored.
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
}

#: Which tensor-core peak a GEMM in a given weight dtype runs at. Weight-only int4/int8 kernels
#: dequantise to the activation dtype, so they use the activation peak (handled by callers).
COMPUTE_DTYPE: dict[str, str] = {
    "fp32": "fp32",
    "tf32": "tf32",
    "bf16": "bf16",
    "fp16": "fp16",
    "fp8": "fp8",
    "int8": "int8",
    "fp4": "fp4",
    "int4": "bf16",
}

KB, MB, GB, TB = 1e3, 1e6, 1e9, 1e12
KiB, MiB, GiB = 2.0**10, 2.0**20, 2.0**30


def dtype_bytes(dtype: str) -> float:
    """Bytes per element; raises a one-sentence error for unknown dtypes."""
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        allowed = ", ".join(DTYPE_BYTES)
        raise ValueError(f"unknown dtype {dtype!r}; allowed: {allowed}") from None


def format_bytes(num_bytes: float) -> str:
    """Human-readable decimal size, e.g. '16.06 GB'."""
    for unit, scale in (("TB", TB), ("GB", GB), ("MB", MB), ("KB", KB)):
        if abs(num_bytes) >= scale:
            return f"{num_bytes / scale:.2f} {unit}"
    return f"{num_bytes:.0f} B"


def format_seconds(seconds: float) -> str:
    """Human-readable duration with an SI prefix."""
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} us"
