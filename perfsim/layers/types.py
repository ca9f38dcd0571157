"""Value types a layer kind returns: `ParamCount`, and `Kernel` with its typed `KernelRole`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from perfsim.ops.base import Op


@dataclass(frozen=True, slots=True)
class ParamCount:
    total: float
    active: float

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(self.total + other.total, self.active + other.active)


def dense(n: float) -> ParamCount:
    """Parameters every token uses."""
    return ParamCount(n, n)


class KernelRole(Enum):
    """What a kernel's cost depends on, so cost tables (perfsim.sim.costs) can split a step:

    TOKEN: the step's token count (projections, MLP/MoE, norms, all-reduce);
    ROWS: the sampled logit rows (lm_head, sampling);
    DECODE: the decode batch and its cached context (decode attention, decode scans);
    PREFILL: one prefill chunk's length and the tokens cached before it.
    """

    TOKEN = "token"
    ROWS = "rows"
    DECODE = "decode"
    PREFILL = "prefill"


TOKEN, ROWS, DECODE, PREFILL = KernelRole.TOKEN, KernelRole.ROWS, KernelRole.DECODE, KernelRole.PREFILL


class Kernel(NamedTuple):
    """One kernel of a step: its name in breakdowns, the op that prices it, and its role."""

    name: str
    op: Op
    role: KernelRole


def check_role(kernel: Kernel) -> Kernel:
    """`kernel`, or an error when its role is not a KernelRole (never priced per token silently)."""
    if type(kernel.role) is not KernelRole:
        raise TypeError(f"kernel {kernel.name!r} has role {kernel.role!r}; expected a KernelRole")
    return kernel
