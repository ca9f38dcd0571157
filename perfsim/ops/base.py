"""Operator protocol, cost value type and registry.

Every op is a frozen dataclass of shapes. Shapes may be numpy arrays (all broadcastable), which is
how the vectorised sweep path evaluates thousands of (batch, context) points in one call: op code
uses only numpy ufuncs (np.ceil, np.maximum, np.where) and never branches on a shape value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from perfsim.registry import Registry

if TYPE_CHECKING:
    from perfsim.spec.hardware import HardwareProfile

ArrayLike = "float | np.ndarray"


@dataclass(frozen=True, slots=True)
class Cost:
    """FLOPs (one FMA = 2) and bytes moved to/from device memory."""

    flops: float | np.ndarray
    bytes: float | np.ndarray

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.bytes + other.bytes)


class Op:
    """Base of all operators (kernel families), the extension point of `perfsim.ops`.

    A subclass is a frozen dataclass of shapes (floats or broadcastable numpy arrays; use numpy
    ufuncs only, never branch on a shape value), registered with `@register_op("family")` (the
    name in breakdowns and calibration blocks; it is also written to `cls.family`).

    Must implement:
        cost() -> Cost
            FLOPs (one FMA = 2) and bytes moved to/from device memory.
        time(hw) -> float | np.ndarray
            Device seconds on profile `hw` when launched back to back, from the profile's
            efficiency block for this family (e.g. `roofline_time(...)`); zero where no work.

    May override:
        bound(hw) -> str
            'compute', 'memory' or 'overhead' (default 'memory'; `dominant(...)` helps).
        kernels (class attribute) / kernel_count (property)
            Kernels launched per call; launch overhead and CUDA-graph costs scale with it.
    """

    family: ClassVar[str] = "op"
    #: Kernels launched; launch overhead and CUDA-graph node costs scale with it.
    kernels: ClassVar[int] = 1

    def cost(self) -> Cost:
        raise NotImplementedError

    def time(self, hw: HardwareProfile) -> float | np.ndarray:
        """Device time in seconds when launched back to back (launch cost hidden)."""
        raise NotImplementedError

    def bound(self, hw: HardwareProfile) -> str:
        """'compute', 'memory' or 'overhead': which term dominates this op's time."""
        return "memory"

    @property
    def kernel_count(self) -> int:
        return self.kernels


class ScanOp(Op):
    """Chunked recurrent scans (Mamba2 SSD, linear attention): Triton kernels with their own
    efficiencies (`efficiency.scan`) and a fixed cost per launched kernel. Subclasses have
    `batch`, `seq_len`, `dtype` fields and define `cost()` and `kernel_count`."""

    batch: float | np.ndarray
    seq_len: float | np.ndarray
    dtype: str

    def _terms(self, hw):
        eff = hw.efficiency_in_use.scan
        cost = self.cost()
        decode = getattr(self, "phase", None) == "decode"  # the fused recurrent kernel
        e_bw = eff.decode_e_bw if decode and eff.decode_e_bw is not None else eff.e_bw
        fixed_s = eff.decode_t_fixed_s if decode and eff.decode_t_fixed_s is not None else eff.t_fixed_s
        t_c = cost.flops / (hw.peak_flops(self.dtype) * eff.e_flops)
        t_m = cost.bytes / (hw.memory.peak_bw_bytes_per_s * e_bw)
        return t_c, t_m, fixed_s * self.kernel_count

    def time(self, hw):
        t_c, t_m, fixed = self._terms(hw)
        return np.where((self.batch > 0) & (self.seq_len > 0), fixed + np.maximum(t_c, t_m), 0.0)

    def bound(self, hw) -> str:
        return dominant(*self._terms(hw))


_OPS: Registry[type[Op]] = Registry("op", "family")
#: Register an op class under the name used in breakdowns and YAML.
register_op = _OPS.register
registered_ops = _OPS.as_dict


def kernel_time(hw: HardwareProfile, op: Op) -> float | np.ndarray:
    """Seconds one op takes on a profile (a float for scalar shapes, an array otherwise)."""
    t = op.time(hw)
    return float(t) if np.ndim(t) == 0 else t


def roofline_time(
    flops: float | np.ndarray,
    bytes_moved: float | np.ndarray,
    flops_per_s: float | np.ndarray,
    bytes_per_s: float | np.ndarray,
    t_fixed_s: float,
    active: float | np.ndarray = 1.0,
) -> float | np.ndarray:
    """t_fixed + max(compute, memory); zero where the op has no work (`active` false)."""
    t = t_fixed_s + np.maximum(flops / flops_per_s, bytes_moved / bytes_per_s)
    return np.where(active, t, 0.0)


def dominant(flop_time: float | np.ndarray, mem_time: float | np.ndarray, fixed: float) -> str:
    """Classify by the larger roofline term; 'overhead' if the fixed cost exceeds both."""
    f, m = float(np.max(flop_time)), float(np.max(mem_time))
    if fixed > max(f, m):
        return "overhead"
    return "compute" if f >= m else "memory"
