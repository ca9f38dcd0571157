"""Routed mixture-of-experts: router, top-k, token permutation, two grouped GEMMs, combine.

Only experts that receive at least one token are read. With T tokens routed uniformly to k of E
experts, the expected number touched is E (1 - (1 - k/E)^T): one token at decode touches k
experts, a large prefill touches all of them. This is why MoE decode is cheap at batch 1 and
approaches dense-model bandwidth cost as the batch grows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from perfsim.ops.base import Cost, Op, register_op
from perfsim.ops.elementwise import Elementwise
from perfsim.ops.gemm import Gemm
from perfsim.units import DTYPE_BYTES


def experts_touched(num_tokens, num_experts: int, top_k: int):
    """Expected distinct experts hit by `num_tokens` tokens under uniform top-k routing."""
    return num_experts * (1.0 - (1.0 - top_k / num_experts) ** np.asarray(num_tokens, dtype=float))


@register_op("moe")
@dataclass(frozen=True)
class MoE(Op):
    """Routed experts for `num_tokens` tokens of width `hidden_size` (shared experts are MLPs)."""

    num_tokens: float | np.ndarray
    hidden_size: int
    expert_intermediate_size: int
    num_experts: int
    top_k: int
    gated: bool = True
    dtype: str = "bf16"
    weight_dtype: str | None = None
    #: False: the router GEMM is priced elsewhere (a module handed router logits).
    router: bool = True

    kernels = 7  # router, top-k, permute, grouped up, activation, grouped down, combine

    def sub_ops(self) -> list[Op]:
        t, h, f = self.num_tokens, self.hidden_size, self.expert_intermediate_size
        a = DTYPE_BYTES[self.dtype]
        touched = experts_touched(t, self.num_experts, self.top_k)
        rows = t * self.top_k / np.maximum(touched, 1e-9)  # tokens per touched expert
        up = f * (2 if self.gated else 1)
        routed = t * self.top_k * h * a
        wd = self.weight_dtype
        router: list[Op] = [Gemm(t, self.num_experts, h, self.dtype)] if self.router else []
        return [
            *router,
            Elementwise("topk", t * self.num_experts * 4.0, t * self.top_k * 8.0),
            Elementwise("permute", routed, routed),
            Gemm(rows, up, h, self.dtype, wd, groups=touched),
            Elementwise("activation", t * self.top_k * up * a, t * self.top_k * f * a),
            Gemm(rows, h, f, self.dtype, wd, groups=touched),
            Elementwise("combine", routed + t * h * a, t * h * a),
        ]

    def cost(self) -> Cost:
        total = Cost(0.0, 0.0)
        for op in self.sub_ops():
            total = total + op.cost()
        return total

    def without_router(self) -> MoE:
        return replace(self, router=False)

    def time(self, hw):
        """Sub-op times, grouped GEMMs at the profile's grouped-GEMM efficiency, plus the
        module's fixed cost where there are tokens."""
        eff = hw.efficiency_in_use.moe
        ops = self.sub_ops()
        total = 0.0
        for i, op in enumerate(ops):
            grouped = isinstance(op, Gemm) and not (self.router and i == 0)
            total = total + (op.time(hw) / eff.grouped_gemm_e if grouped else op.time(hw))
        return total + np.where(np.asarray(self.num_tokens) > 0, eff.t_fixed_s, 0.0)

    def bound(self, hw) -> str:
        ops = self.sub_ops()
        slowest = max(ops, key=lambda op: float(np.max(op.time(hw))))
        return slowest.bound(hw)
