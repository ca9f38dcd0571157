"""Small-M GEMM kernels on the CUDA cores: weight-only dequantising kernels and the plain GEMV.

A decode step multiplies a handful of activation rows by every weight once, so the tiled
tensor-core GEMM (whose smallest tile is 64 rows) is the wrong kernel: runtimes ship skinny kernels
that stream the weights at the bandwidth roof and do the arithmetic on the CUDA cores.

- Plain GEMV (same weight and activation dtype, M <= PLAIN_GEMV_MAX_M): cuBLAS gemv / llama.cpp
  MMVF convert each weight to fp32 once and FFMA it into every row, CONVERT_INSTR + M lane-
  instructions per weight.
- Weight-only GEMV (M <= SKINNY_MAX_M): unpack the stored bits into half2 pairs once
  (`WeightKernel.unpack`), then one HFMA2 per weight PAIR per row (`mac_per_row` = 0.5).
  llama.cpp MMVQ instead unpacks again for every column and multiplies with dp4a (4 MACs per
  instruction), so its whole count is per row (`unpack_per_row`).
- Weight-only 16-row tensor-core tile (mma m16n8k16, Marlin): t_c = max(tensor term, unpack term);
  Marlin stripes N x K over every SM, so no wave term.

Rates: every lane-instruction costs one issue slot of the CUDA cores, R = fp32 peak / 2 (one FFMA
= 2 FLOP per lane per clock) x e_max["fp32"]. Four schedulers each issue one warp-instruction per
clock (128 lanes per SM, NVIDIA Ampere GA10x and Hopper whitepapers), and half2 / int32 ops are no
faster per slot on sm_86/87/89/90, so a half2 instruction that handles two weights costs half an
instruction per weight. Memory: the stored bytes (group scales included) at the bandwidth roof.
Instruction counts are ours, read from the kernels' source (cited per entry), not measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Weight-only small-M kernels: the tensor-core tile height (mma.sync m16n8k16, Marlin) and the
#: largest M they are offered for (Marlin runs up to 4 x 16-row m-blocks per pass; beyond that the
#: tiled GEMM path with dequantisation in the main loop is the one runtimes pick).
SKINNY_TILE_M = 16
SKINNY_MAX_M = 64

#: Largest M the plain (same-dtype) CUDA-core GEMV is offered for: llama.cpp's MMVF kernels
#: (ggml/src/ggml-cuda/mmvf.cuh, MMVF_MAX_BATCH_SIZE 8); cuBLAS gemv itself is M = 1.
PLAIN_GEMV_MAX_M = 8


@dataclass(frozen=True)
class WeightKernel:
    """CUDA-core lane-instructions per stored weight of one format's small-M kernel."""

    unpack: float  # bit ops + convert + scale / zero point, once per weight
    mac_per_row: float  # multiply-accumulate per weight per activation row (GEMV only)
    unpack_per_row: bool = False  # the kernel repeats the unpack for every activation row


#: Marlin (vLLM csrc/quantization/marlin/dequant.h), 4-bit: per int32 of 8 weights one shift,
#: 4 LOP3 (nibble -> fp16 via the 0x6400 exponent trick), 4 HSUB2/HFMA2 (offset, symmetric -8 or
#: the zero point) and 4 HMUL2 (group scale) = 13 per 8. The GEMV FMAs pairs: one HFMA2 per 2.
_MARLIN_INT4 = WeightKernel(unpack=13 / 8, mac_per_row=0.5)
#: FP4 / FP8 weights (same file, kFE2M1f / kFE4M3fn): per 4 weights ~3 int ops (sign mask, shift,
#: merge) per half2 plus one shift, and one HMUL2 per pair (exponent bias x scale fused) = 9 per 4.
_MARLIN_FP_SMALL = WeightKernel(unpack=9 / 4, mac_per_row=0.5)

#: llama.cpp MMVQ (ggml/src/ggml-cuda/vecdotq.cuh, activations quantised to q8_1, dp4a = 4 int8
#: MACs): per 8 weights of Q4_K two nibble extracts (3 ops), 2 dp4a for the weights and 2 for the
#: activation sum of the min term, ~6 scalar ops (I2F, scale multiplies, 2 FFMA), plus 6-bit
#: sub-block scale unpack (~8 per 32): ~1.9 per weight per row. Q5_K / Q6_K merge a high-bit
#: plane (~4 more per 8: ~2.4). Q8_0: 8 dp4a + ~3 scalar per 32 (~0.35). The _M mixes are
#: counted as their dominant type (Q4_K_M is mostly Q4_K, a few tensors Q6_K).
_GGUF = {
    "q4_k": 1.9, "q4_k_m": 1.9, "q5_k": 2.4, "q5_k_m": 2.4, "q6_k": 2.4, "q8_0": 0.35,
}

WEIGHT_KERNELS: dict[str, WeightKernel] = {
    "int4": _MARLIN_INT4, "int4_awq": _MARLIN_INT4, "int4_gptq": _MARLIN_INT4,
    "fp4": _MARLIN_FP_SMALL, "nvfp4": _MARLIN_FP_SMALL, "mxfp4": _MARLIN_FP_SMALL,
    "fp8": _MARLIN_FP_SMALL,
    # int8 per-output-channel (scale applied in the epilogue): fp16 activations 2 PRMT + 2 HSUB2
    # per 4 weights = 1; bf16 (see int8_kernel) needs an fp32 detour.
    "int8": WeightKernel(unpack=1.0, mac_per_row=0.5),
    **{name: WeightKernel(unpack=0.0, mac_per_row=ops, unpack_per_row=True)
       for name, ops in _GGUF.items()},
}
#: Marlin int8 -> bf16 (kU8B128 bf16 specialisation): 4 PRMT into fp32 magic numbers, 4 FADD,
#: 2 PRMT to pack bf16 pairs = 10 per 4 weights.
_INT8_TO_BF16 = WeightKernel(unpack=10 / 4, mac_per_row=0.5)
#: Formats without an entry (none today) get the 4-bit Marlin count.
_DEFAULT_KERNEL = _MARLIN_INT4

#: Plain GEMV: lane-instructions per weight to widen it to fp32 (one PRMT/shift for bf16, one
#: HADD2.F32 for fp16, one cvt for fp8 pairs), none for fp32; then one FFMA per row.
CONVERT_INSTR = 1.0

#: Non-tensor (CUDA-core) FLOP rate when a profile lists no fp32 peak: the dense bf16 tensor peak
#: / 16, the A100/H100 ratio (312 / 19.5 TF; Ampere sm_87 and Ada are 8x, so this is conservative).
TENSOR_TO_CUDA_CORE_RATIO = 16.0


def cuda_core_flops(hw) -> float:
    """Dense non-tensor FLOP/s: the profile's fp32 peak, else bf16 tensor peak / 16."""
    peaks = hw.compute.peak_dense_flops_per_s
    if "fp32" in peaks:
        return peaks["fp32"]
    return hw.peak_flops("bf16") / TENSOR_TO_CUDA_CORE_RATIO


def lane_instr_per_s(hw) -> float:
    """CUDA-core issue rate in lane-instructions/s: fp32 peak / 2 x its efficiency."""
    eff = hw.efficiency_in_use.gemm
    return cuda_core_flops(hw) / 2.0 * eff.e_max.get("fp32", eff.e_for("bf16"))


def weight_kernel(weight_dtype: str, act_dtype: str) -> WeightKernel:
    """The small-M kernel counts for `weight_dtype` weights feeding `act_dtype` activations."""
    if weight_dtype == "int8" and act_dtype == "bf16":
        return _INT8_TO_BF16
    return WEIGHT_KERNELS.get(weight_dtype, _DEFAULT_KERNEL)


def gemv_instr_per_weight(kernel: WeightKernel, m):
    """Lane-instructions per weight of the weight-only GEMV for `m` activation rows."""
    unpack = kernel.unpack * (m if kernel.unpack_per_row else 1.0)
    return unpack + m * kernel.mac_per_row


def skinny_terms(gemm, hw, peak, bw):
    """(t, t_compute, t_memory) of a weight-only `Gemm`'s small-M kernels; inf above SKINNY_MAX_M.

    `peak` is the tensor-core rate already divided by the reference utilisation and `bw` the
    bandwidth roof the tiled path uses, so both paths compete on the same terms.
    """
    eff = hw.efficiency_in_use.gemm
    m, n, k, g = gemm.m, gemm.n, gemm.k, gemm.groups
    kernel = weight_kernel(gemm.weight_dtype or gemm.dtype, gemm.dtype)
    rate = lane_instr_per_s(hw)
    weights = g * n * k
    t_gemv = weights * gemv_instr_per_weight(kernel, m) / rate
    # the tile path unpacks each weight once into shared memory / registers for all 16 rows
    t_unpack = weights * (kernel.unpack + (kernel.mac_per_row if kernel.unpack_per_row else 0.0)) / rate
    tile_eff = min(t[2] for t in eff.tiles)
    rows = np.ceil(m / SKINNY_TILE_M) * SKINNY_TILE_M
    u_k = k / (k + eff.k_half)
    t_tc = np.maximum(2.0 * g * rows * n * k / np.maximum(peak * tile_eff * u_k, 1.0), t_unpack)
    t_c = np.minimum(t_gemv, t_tc)
    t_m = gemm.cost().bytes / bw
    return _offered(m <= SKINNY_MAX_M, t_c, t_m)


def gemv_terms(gemm, hw, bw):
    """(t, t_compute, t_memory) of the plain CUDA-core GEMV; inf above PLAIN_GEMV_MAX_M.

    Memory-bound on every GPU at M = 1 (it reads each weight once at `bw`, the roof the tiled
    path uses at that M); it only wins where the tiled path pads one row up to a 64-row tile on a
    device whose tensor peak cannot hide that padding (Jetson power modes).
    """
    m = gemm.m
    convert = 0.0 if gemm.dtype == "fp32" else CONVERT_INSTR
    t_c = gemm.groups * gemm.n * gemm.k * (convert + m) / lane_instr_per_s(hw)
    return _offered(m <= PLAIN_GEMV_MAX_M, t_c, gemm.cost().bytes / bw)


def _offered(mask, t_c, t_m):
    """(max(t_c, t_m), t_c, t_m) where the kernel is offered, inf elsewhere."""
    return (np.where(mask, np.maximum(t_c, t_m), np.inf), np.where(mask, t_c, np.inf),
            np.where(mask, t_m, np.inf))
