"""SI helpers and data-type sizes: the only place that knows how wide a dtype is."""

from __future__ import annotations

from typing import Literal

DType = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"]

#: Weight-only storage formats with their exact bits per weight, scales and zero points included.
#: "int4" / "fp4" above stay bare 4-bit (0.5 byte, no scales) for compatibility; "int8" and "fp8"
#: double as the int8 / fp8 weight-only formats when activations stay bf16: their per-output-channel
#: (int8) or per-tensor (fp8) scales add 16/K bits per weight (< 0.5 % at K >= 4096), not counted.
WEIGHT_FORMAT_BITS: dict[str, float] = {
    # AWQ (AutoAWQ GEMM layout, as vLLM/Marlin read it): 4-bit weights, per group of 128 input rows
    # one fp16 scale and one 4-bit zero point per output column (qzeros packed 8 per int32):
    # 4 + 16/128 + 4/128 = 4.15625 bits. Lin et al., AWQ (arXiv 2306.00978); AutoAWQ WQLinear_GEMM.
    "int4_awq": 4.0 + 16.0 / 128 + 4.0 / 128,
    # GPTQ symmetric, group 128 (the common checkpoint and what the Marlin kernel streams: the zero
    # point is the constant 8, so only the fp16 group scale is read): 4 + 16/128 = 4.125 bits.
    # Frantar et al., GPTQ (arXiv 2210.17323); IST-DASLab/marlin README (symmetric, group 128).
    "int4_gptq": 4.0 + 16.0 / 128,
    # NVFP4: E2M1 values, one FP8 E4M3 scale per 16-element block, one fp32 per-tensor scale
    # (negligible): 4 + 8/16 = 4.5 bits. NVIDIA technical blog "Introducing NVFP4 for efficient and
    # accurate low-precision inference" (2025).
    "nvfp4": 4.0 + 8.0 / 16,
    # MXFP4: E2M1 values, one E8M0 shared scale per 32-element block: 4 + 8/32 = 4.25 bits.
    # OCP Microscaling Formats (MX) Specification v1.0, section 5 (block size 32, E8M0 scale).
    "mxfp4": 4.0 + 8.0 / 32,
    # GGUF block formats, ggml/src/ggml-common.h block structs (llama.cpp):
    # block_q4_K = 256 weights in 2 fp16 (d, dmin) + 12 bytes of 6-bit scales/mins + 128 bytes
    # = 144 B / 256 = 4.5 bits; block_q5_K = 176 B / 256 = 5.5; block_q6_K = 210 B / 256 = 6.5625;
    # block_q8_0 = fp16 scale + 32 int8 = 34 B / 32 = 8.5 bits.
    "q4_k": 144 * 8 / 256,
    "q5_k": 176 * 8 / 256,
    "q6_k": 210 * 8 / 256,
    "q8_0": 34 * 8 / 32,
    # GGUF mixes (llama-quantize keeps some tensors at higher types, e.g. Q4_K_M stores half of
    # attn_v / ffn_down as Q6_K): model-average bits per weight. llama.cpp tools/quantize/README.md
    # reports Q4_K_M 4.84 and Q5_K_M 5.68 bpw for Llama 2 7B; the mix average moves by a few
    # hundredths with a model's tensor shapes, and 4.85 / 5.69 are the commonly quoted values.
    "q4_k_m": 4.85,
    "q5_k_m": 5.69,
}


#: Storage bytes per element. Bare fp4/int4 pack two values per byte with no scales; the
#: WEIGHT_FORMAT_BITS formats count their block scales and zero points.
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
    **{name: bits / 8.0 for name, bits in WEIGHT_FORMAT_BITS.items()},
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
    # Block-scaled FP4 with matching activations (W4A4) runs at the FP4 tensor peak (Blackwell);
    # every other weight-only format dequantises to the activation dtype.
    "nvfp4": "fp4",
    "mxfp4": "fp4",
    **{name: "bf16" for name in WEIGHT_FORMAT_BITS if name not in ("nvfp4", "mxfp4")},
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
