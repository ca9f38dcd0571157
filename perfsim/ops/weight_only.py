"""Weight-only quantised small-M GEMM kernels.

Weight-only quantisation (weights stored narrower than the activations: int4 AWQ/GPTQ, GGUF, int8
or fp8 weights with bf16 activations) adds two small-M kernels, as Marlin/Machete (vLLM),
TensorRT-LLM weight-only, MLC and llama.cpp CUDA ship; candidates exist for M <= SKINNY_MAX_M:
- a CUDA-core GEMV: every weight is dequantised and FMA'd on the CUDA cores,
  t_c = (2 M + 2 ops_w) N K / (F_cuda x e_cuda);
- a 16-row tensor-core tile (mma m16n8k16) fed by CUDA-core dequantisation that runs alongside
  it: t_c = max(2 ceil(M/16) 16 N K / (F_tensor x e x u_k), 2 ops_w N K / (F_cuda x e_cuda)); the
  kernel partitions N x K stripes over every SM (Marlin's striped split-K), so no wave term.
Both read the quantised weights (scales included) at the bandwidth roof, t_m = bytes / (BW x e_bw),
so a batch-1 decode streams ~1/4 of the bf16 bytes. ops_w = dequantisation instructions per weight
(DEQUANT_OPS); F_cuda = the profile's fp32 (non-tensor) peak, counted as 2 FLOP per lane-instruction
like the peak itself; e_cuda = e_max["fp32"] (else e_max["bf16"]). Equal weight and activation
dtypes (bf16 x bf16, fp8 x fp8) never see these candidates: their numbers are unchanged.
"""

from __future__ import annotations

import numpy as np

#: Weight-only small-M kernels: the tensor-core tile height (mma.sync m16n8k16, Marlin) and the
#: largest M they are offered for (Marlin runs up to 4 x 16-row m-blocks per pass; beyond that the
#: tiled GEMM path with dequantisation in the main loop is the one runtimes pick).
SKINNY_TILE_M = 16
SKINNY_MAX_M = 64

#: Dequantisation lane-instructions per weight on the CUDA cores. Marlin (IST-DASLab/marlin,
#: dequant() in marlin_cuda_kernel.cu) turns one int32 of 8 int4 values into 4 half2 with lop3
#: (extract + exponent-magic convert), HSUB2/HFMA2 (offset) and HMUL2 (group scale) instructions,
#: about 12 per 8 weights (~1.5, our count, not a measurement); count 2 for 4-bit group formats
#: (zero point, addressing). 8-bit formats: one
#: byte-permute convert and one scale per pair, 1. GGUF k-quants also unpack 6-bit sub-block
#: scales/mins (amortised over 32 weights) and Q5_K/Q6_K merge a high-bit plane: 2.5 / 3.
SUB_BYTE_DEQUANT_OPS = 2.0
DEQUANT_OPS: dict[str, float] = {
    "int8": 1.0, "fp8": 1.0, "q8_0": 1.0,
    "q4_k": 2.5, "q4_k_m": 2.5, "q5_k": 3.0, "q5_k_m": 3.0, "q6_k": 3.0,
}

#: Non-tensor (CUDA-core) FLOP rate when a profile lists no fp32 peak: the dense bf16 tensor peak
#: / 16, the A100/H100 ratio (312 / 19.5 TF; Ampere sm_87 and Ada are 8x, so this is conservative).
TENSOR_TO_CUDA_CORE_RATIO = 16.0


def cuda_core_flops(hw) -> float:
    """Dense non-tensor FLOP/s: the profile's fp32 peak, else bf16 tensor peak / 16."""
    peaks = hw.compute.peak_dense_flops_per_s
    if "fp32" in peaks:
        return peaks["fp32"]
    return hw.peak_flops("bf16") / TENSOR_TO_CUDA_CORE_RATIO


def skinny_terms(gemm, hw, peak, bw):
    """(t, t_compute, t_memory) of a weight-only `Gemm`'s small-M kernels; inf above SKINNY_MAX_M.

    `peak` is the tensor-core rate already divided by the reference utilisation and `bw` the
    bandwidth roof the tiled path uses, so both paths compete on the same terms.
    """
    eff = hw.efficiency_in_use.gemm
    m, n, k, g = gemm.m, gemm.n, gemm.k, gemm.groups
    wd = gemm.weight_dtype or gemm.dtype
    cuda = cuda_core_flops(hw) * eff.e_max.get("fp32", eff.e_max.get("bf16", 0.7))
    dequant_flops = 2.0 * DEQUANT_OPS.get(wd, SUB_BYTE_DEQUANT_OPS) * g * n * k
    t_dequant = dequant_flops / cuda
    t_gemv = (2.0 * m * n * k * g + dequant_flops) / cuda
    tile_eff = min(t[2] for t in eff.tiles)
    rows = np.ceil(m / SKINNY_TILE_M) * SKINNY_TILE_M
    u_k = k / (k + eff.k_half)
    t_tc = np.maximum(2.0 * g * rows * n * k / np.maximum(peak * tile_eff * u_k, 1.0), t_dequant)
    t_c = np.minimum(t_gemv, t_tc)
    t_m = gemm.cost().bytes / bw
    t = np.where(m <= SKINNY_MAX_M, np.maximum(t_c, t_m), np.inf)
    return t, np.where(m <= SKINNY_MAX_M, t_c, np.inf), np.where(m <= SKINNY_MAX_M, t_m, np.inf)
