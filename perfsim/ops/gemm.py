"""GEMM (and grouped GEMM) with tile/wave quantisation, split-K and a bandwidth roof.

t = t_fixed + min over (tile, split-K) of max(compute, memory), where compute uses the padded tile
work at e_core x tile efficiency x wave utilisation x K-pipeline utilisation (hardware.md section 5).
Choosing the best candidate mirrors cuBLAS's heuristic kernel selection.

`e_max` in a profile is what published benchmarks report: the fraction of peak a large square
GEMM (8192^3) reaches. The per-tile efficiency e_core is derived from it by dividing out this
model's own utilisation at that reference shape, so the model reproduces the measurement there
by construction and everything else follows from tile/wave/K physics.

Weight-only quantised small-M kernels live in perfsim.ops.weight_only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op
from perfsim.ops.weight_only import gemv_terms, skinny_terms
from perfsim.units import COMPUTE_DTYPE, DTYPE_BYTES


@register_op("gemm")
@dataclass(frozen=True)
class Gemm(Op):
    """C[m, n] = A[m, k] @ B[k, n]; `groups` independent GEMMs in one kernel (MoE experts).

    `weight_dtype` sizes B (weight-only quantisation); compute runs at the activation dtype's peak
    unless both are the same low-precision type (fp8 x fp8 runs at the fp8 peak). `mainloop_e`
    scales that peak for kernels whose main loop is slower than the dense GEMM's (block-scaled fp8:
    `gemm.block_scaled_e`; grouped MoE GEMMs: `moe.mainloop_e`).
    """

    m: float | np.ndarray
    n: float | np.ndarray
    k: float | np.ndarray
    dtype: str = "bf16"
    weight_dtype: str | None = None
    groups: float | np.ndarray = 1.0
    mainloop_e: float = 1.0

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
        peak = hw.peak_flops(dt) * eff.e_for(dt) * self.mainloop_e
        peak /= _reference_utilisation(eff, n_sm)
        gemv = eff.e_bw if eff.gemv_e_bw is None else eff.gemv_e_bw
        bw = hw.memory.peak_bw_bytes_per_s * np.where(self.m <= 1, gemv, eff.e_bw)
        cost = self.cost()
        m, n, k, g = self.m, self.n, self.k, self.groups
        best = best_c = best_m = np.inf
        if self._weight_only():
            best, best_c, best_m = skinny_terms(self, hw, peak, bw)
        elif dt != "fp8":  # fp8 x fp8 products have no CUDA-core GEMV: the tiled kernel runs
            best, best_c, best_m = gemv_terms(self, hw, bw)
        for tile_m, tile_n, tile_eff in eff.tiles:
            tiles = g * np.ceil(m / tile_m) * np.ceil(n / tile_n)
            padded_flops = 2.0 * tiles * tile_m * tile_n * k
            split = 1
            while split <= eff.max_split_k:
                u = _utilisation(tiles, split, k, n_sm, eff.k_half)
                t_c = padded_flops / np.maximum(peak * tile_eff * u, 1.0)
                # split-K partial sums are written and re-read in fp32
                reach = _bw_reach(eff, tiles * split, n_sm)
                t_m = (cost.bytes + (split - 1) * 2.0 * g * m * n * 4.0) / (bw * reach)
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

def _utilisation(tiles, split, k, n_sm, k_half):
    """Wave quantisation x K-pipeline fill for `tiles` output tiles split `split` ways along K."""
    ctas = tiles * split
    u_wave = ctas / np.maximum(np.ceil(ctas / n_sm) * n_sm, n_sm)
    k_slice = k / split
    return u_wave * k_slice / (k_slice + k_half)


def _bw_reach(eff, ctas, n_sm: int):
    """Fraction of the bandwidth roof `ctas` concurrent CTAs can pull (GemmEfficiency.cta_bw_share)."""
    if eff.cta_bw_share is None:
        return 1.0
    return np.minimum(1.0, np.maximum(ctas, 1.0) * eff.cta_bw_share / n_sm)  # an empty GEMM still divides


def _reference_utilisation(eff, n_sm: int) -> float:
    size = REFERENCE_GEMM_SIZE
    return max(
        tile_eff * float(_utilisation(np.ceil(size / tm) * np.ceil(size / tn), 1, size, n_sm, eff.k_half))
        for tm, tn, tile_eff in eff.tiles
    )
