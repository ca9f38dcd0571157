"""Quantisation of a bf16 activation to fp8 before an fp8 linear or fused MoE.

Runtimes that keep activations in bf16 quantise the input of every fp8 GEMM in a kernel of its
own, inside the linear (aiconfigurator's collectors time it with the GEMM). It streams the rows
once (read bf16, write fp8 and the scales), but it is launched with one thread block per token,
so many narrow rows cost the block issue time `row_s` per row whatever their width: vLLM 0.24's
static per-tensor pass takes ~7 ns per token on H100 from 32 to 2,048 columns (235 us at 32,768
tokens), where bytes alone would take 2-60 us. Per-tensor dynamic scaling first reduces the
absolute maximum over the whole tensor (one more read), TensorRT-LLM also zeroes that scale first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op

#: Elements per fp8 scale in block-scaled (DeepSeek-style) activation quantisation.
QUANT_BLOCK = 128
#: Kernels per scheme: "static" (given scale: quantise), "dynamic" (absmax, quantise),
#: "dynamic_zeroed" (zero the scale, absmax, quantise), "block" (one fused per-group pass).
SCHEMES = {"static": 1, "dynamic": 2, "dynamic_zeroed": 3, "block": 1}


@register_op("activation_quant")
@dataclass(frozen=True)
class ActivationQuant(Op):
    """`rows` tokens of `width` bf16 values quantised to fp8 under `scheme` (see SCHEMES)."""

    rows: float | np.ndarray
    width: float | np.ndarray
    scheme: str = "dynamic"

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"activation quant scheme {self.scheme!r} is not one of {', '.join(SCHEMES)}")

    @property
    def kernel_count(self) -> int:
        return SCHEMES[self.scheme]

    def _pass_bytes(self) -> tuple[float | np.ndarray, float | np.ndarray]:
        """(bytes of the absmax pass, bytes of the quantise pass)."""
        elements = self.rows * self.width
        absmax = 2.0 * elements if self.scheme in ("dynamic", "dynamic_zeroed") else 0.0
        scales = 4.0 * elements / QUANT_BLOCK if self.scheme == "block" else 0.0
        return absmax, 3.0 * elements + scales

    def cost(self) -> Cost:
        absmax, quantise = self._pass_bytes()
        return Cost(0.0, absmax + quantise)

    def _terms(self, hw):
        figures = hw.efficiency_in_use.gemm.quant("block" if self.scheme == "block" else "tensor")
        memory = hw.efficiency_in_use.memory
        bw = hw.memory.peak_bw_bytes_per_s * (memory.e_bw if figures.e_bw is None else figures.e_bw)
        absmax, quantise = self._pass_bytes()
        t_stream = absmax / (hw.memory.peak_bw_bytes_per_s * memory.e_bw) + quantise / bw
        t_rows = self.rows * figures.row_s
        fixed = (memory.t_fixed_s if figures.t_fixed_s is None else figures.t_fixed_s) * SCHEMES[self.scheme]
        return t_stream, t_rows, fixed

    def time(self, hw):
        t_stream, t_rows, fixed = self._terms(hw)
        active = (self.rows > 0) & (self.width > 0)
        return np.where(active, fixed + np.maximum(t_stream, t_rows), 0.0)

    def bound(self, hw) -> str:
        t_stream, t_rows, fixed = self._terms(hw)
        return dominant(0.0, t_stream, fixed + t_rows)  # block issue is overhead, not compute
