"""Memory-bound kernels: norms, activations, rotary embeddings, gathers, conv1d, sampling.

t = t_fixed + bytes / (e_bw x BW) (the aiconfigurator form, hardware.md section 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op


@register_op("elementwise")
@dataclass(frozen=True)
class Elementwise(Op):
    """A bandwidth-bound kernel described by the bytes it reads and writes."""

    name: str
    bytes_read: float | np.ndarray
    bytes_written: float | np.ndarray
    flops: float | np.ndarray = 0.0

    def cost(self) -> Cost:
        return Cost(self.flops, self.bytes_read + self.bytes_written)

    def _terms(self, hw):
        eff = hw.efficiency_in_use.memory
        t_m = (self.bytes_read + self.bytes_written) / (hw.memory.peak_bw_bytes_per_s * eff.e_bw)
        t_c = self.flops / hw.peak_flops("fp32")
        return t_c, t_m, eff.t_fixed_s

    def time(self, hw):
        t_c, t_m, fixed = self._terms(hw)
        active = (self.bytes_read + self.bytes_written) > 0
        return np.where(active, fixed + np.maximum(t_c, t_m), 0.0)

    def bound(self, hw) -> str:
        return dominant(*self._terms(hw))
