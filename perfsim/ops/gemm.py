"""GEMM (and grouped GEMM) with tile/wave quantisation, split-K and a bandwidth roof.

t = t_fixed + min over (tile, split-K) of max(compute, memory), where compute uses the padded tile
work at e_core x tile efficiency x wave utilisation x K-pipeline utilisation (hardware.md section 5).
Choosing the best candidate mirrors cuBLAS's heuristic kernel selection.

`e_max` in a profile is what published benchmarks report: the fraction of peak a large square
GEMM (8192^3) reaches. The per-tile efficiency e_core is derived from it by dividing out this
model's own utilisation at that reference shape, so the model reproduces the measurement there
by construction and everything else follows from tile/wave/K physics.

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

from dataclasses import dataclass

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op
from perfsim.units import COMPUTE_DTYPE, DTYPE_BYTES


@register_op("gemm")
@dataclass(frozen=True)
class Gemm(Op):
    """C[m, n] = A[m, k] @ B[k, n]; `groups` independent GEMMs in one kernel (MoE experts).

    `weight_dtype` sizes B (weight-only quantisation); compute runs at the activation dtype's peak
    unless both are the same low-precision type (fp8 x fp8 runs at the fp8 peak).
    """

    m: float | np.ndarray
    n: float | np.ndarray
    k: float | np.ndarray
    dtype: str = "bf16"
    weight_dtype: str | None = None
    groups: float | np.ndarray = 1.0

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        w = DTYPE_BYTES[self.weight_dtype or self.dtype]
        flops = 2.0 * self.m * self.n * self.k * self.groups
        moved = self.groups * (self.m * self.k * a + self.k * self.n * w + self.m * self.n * a)
        return Cost(flops, moved)

    def _compute_dtype(self) -> str:
        wd = self.weight_dtype or self.dtype
        return COMPUTE_DTYPE[wd] if wd == self.dtype else COMPUTE_DTYPE[self.dtype]

    def _terms(self, hw):
        eff = hw.efficiency_in_use.gemm
        n_sm = hw.compute.sm_count
        dt = self._compute_dtype()
        peak = hw.peak_flops(dt) * eff.e_max.get(dt, eff.e_max.get("bf16", 0.7))
        peak /= _reference_utilisation(eff, n_sm)
        gemv = eff.e_bw if eff.gemv_e_bw is None else eff.gemv_e_bw
        bw = hw.memory.peak_bw_bytes_per_s * np.where(self.m <= 1, gemv, eff.e_bw)
        cost = self.cost()
        m, n, k, g = self.m, self.n, self.k, self.groups
        best = best_c = best_m = np.inf
        if self._weight_only():
            best, best_c, best_m = self._skinny(hw, peak, bw)
        for tile_m, tile_n, tile_eff in eff.tiles:
            tiles = g * np.ceil(m / tile_m) * np.ceil(n / tile_n)
            padded_flops = 2.0 * tiles * tile_m * tile_n * k
            split = 1
            while split <= eff.max_split_k:
                u = _utilisation(tiles, split, k, n_sm, eff.k_half)
                t_c = padded_flops / np.maximum(peak * tile_eff * u, 1.0)
                # split-K partial sums are written and re-read in fp32
                t_m = (cost.bytes + (split - 1) * 2.0 * g * m * n * 4.0) / bw
                t = np.maximum(t_c, t_m)
                better = t < best
                best = np.where(better, t, best)
                best_c = np.where(better, t_c, best_c)
                best_m = np.where(better, t_m, best_m)
                split *= 2
        return best, best_c, best_m, eff.t_fixed_s

    def _weight_only(self) -> bool:
        wd = self.weight_dtype or self.dtype
        return wd != self.dtype and DTYPE_BYTES[wd] < DTYPE_BYTES[self.dtype]

    def _skinny(self, hw, peak, bw):
        """Small-M weight-only candidates (module docstring): CUDA-core GEMV and 16-row tiles."""
        eff = hw.efficiency_in_use.gemm
        m, n, k, g = self.m, self.n, self.k, self.groups
        wd = self.weight_dtype or self.dtype
        cuda = cuda_core_flops(hw) * eff.e_max.get("fp32", eff.e_max.get("bf16", 0.7))
        dequant_flops = 2.0 * DEQUANT_OPS.get(wd, SUB_BYTE_DEQUANT_OPS) * g * n * k
        t_dequant = dequant_flops / cuda
        t_gemv = (2.0 * m * n * k * g + dequant_flops) / cuda
        tile_eff = min(t[2] for t in eff.tiles)
        rows = np.ceil(m / SKINNY_TILE_M) * SKINNY_TILE_M
        u_k = k / (k + eff.k_half)
        t_tc = np.maximum(2.0 * g * rows * n * k / np.maximum(peak * tile_eff * u_k, 1.0), t_dequant)
        t_c = np.minimum(t_gemv, t_tc)
        t_m = self.cost().bytes / bw
        t = np.where(m <= SKINNY_MAX_M, np.maximum(t_c, t_m), np.inf)
        return t, np.where(m <= SKINNY_MAX_M, t_c, np.inf), np.where(m <= SKINNY_MAX_M, t_m, np.inf)

    def time(self, hw):
        best, _, _, fixed = self._terms(hw)
        active = (self.m > 0) & (self.n > 0) & (self.k > 0) & (self.groups > 0)
        floor = hw.efficiency_in_use.launch.gpu_min_kernel_s
        return np.where(active, np.maximum(fixed + best, floor), 0.0)

    def bound(self, hw) -> str:
        _, t_c, t_m, fixed = self._terms(hw)
        return dominant(t_c, t_m, fixed)


#: Shape at which published "large GEMM" efficiencies are measured (hardware.md Table 2A).
REFERENCE_GEMM_SIZE = 8192

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


def _utilisation(tiles, split, k, n_sm, k_half):
    """Wave quantisation x K-pipeline fill for `tiles` output tiles split `split` ways along K."""
    ctas = tiles * split
    u_wave = ctas / np.maximum(np.ceil(ctas / n_sm) * n_sm, n_sm)
    k_slice = k / split
    return u_wave * k_slice / (k_slice + k_half)


def _reference_utilisation(eff, n_sm: int) -> float:
    size = REFERENCE_GEMM_SIZE
    return max(
        tile_eff * float(_utilisation(np.ceil(size / tm) * np.ceil(size / tn), 1, size, n_sm, eff.k_half))
        for tm, tn, tile_eff in eff.tiles
    )
