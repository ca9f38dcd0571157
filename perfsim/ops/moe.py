"""Routed mixture-of-experts: router, top-k, token permutation, two grouped GEMMs, combine.

Only experts that receive at least one token are read. With T tokens routed uniformly to k of E
experts, the expected number touched is E (1 - (1 - k/E)^T): one token at decode touches k
experts, a large prefill touches all of them. This is why MoE decode is cheap at batch 1 and
approaches dense-model bandwidth cost as the batch grows.

Under expert parallelism (`expert_parallel` EP > 1) each GPU holds num_experts / EP whole experts
and runs only the token copies routed to them. The step waits for the busiest rank: its copies and
distinct experts are priced at their expected maximum over the EP ranks under uniform routing
(mean + sd x sqrt(2 ln EP), the Gaussian bound on a maximum of EP draws; at one decode token of
top-8 of 256 experts over 8 GPUs the busiest holds ~3 copies where the mean is 1), times an explicit
`load_imbalance` for routing that is skewed beyond that randomness.
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


def busiest_rank(num_tokens, num_experts: int, top_k: int, ranks: int, load_imbalance: float = 1.0):
    """(token copies, distinct experts touched) on the busiest of `ranks` expert-parallel GPUs
    holding num_experts / ranks experts each, for `num_tokens` tokens routed uniformly to top_k."""
    t = np.asarray(num_tokens, dtype=float)
    local = num_experts / ranks
    spread = np.sqrt(2.0 * np.log(ranks))
    # copies: per token a hypergeometric draw of its k experts from this rank's share
    mean = t * top_k / ranks
    var = mean * (1.0 - 1.0 / ranks) * (num_experts - top_k) / max(num_experts - 1, 1)
    copies = np.minimum((mean + np.sqrt(var) * spread) * load_imbalance, t * min(top_k, local))
    # distinct experts: each of the rank's experts is hit with the probability p of any one expert
    p = experts_touched(t, num_experts, top_k) / num_experts
    touched = np.minimum(local * p + np.sqrt(local * p * (1.0 - p)) * spread, local)
    return copies, np.minimum(touched, copies)


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
    #: GPUs the experts are spread over whole (num_experts / EP each); the op prices the busiest.
    expert_parallel: int = 1
    #: Busiest rank's routed copies over the mean beyond uniform routing's randomness (1 to EP).
    load_imbalance: float = 1.0
    #: Under EP, the kernel keeps every token's t x top_k copies in its buffers and masks the other
    #: ranks' experts (vLLM's Triton fused MoE with an expert map): permute, activation and combine
    #: run over all copies at the local expert width and the GEMMs zero-fill the masked rows. False:
    #: only this rank's copies are touched (TensorRT-LLM's CUTLASS MoE, DeepEP-style runners).
    every_copy: bool = False
    #: How fp8 expert weights are scaled ("tensor" or "block"); per-tensor fp8 experts may run on
    #: a kernel path of their own (hardware efficiency `moe.per_tensor_fp8`).
    weight_scaling: str = "block"
    #: The fused-MoE kernel (perfsim.spec.gemm_figures.MOE_RUNNERS): "fused", the runtime's
    #: default, or a runner with figures of its own (`moe.flashinfer_cutlass`).
    runner: str = "fused"

    kernels = 7  # router, top-k, permute, grouped up, activation, grouped down, combine

    def sub_ops(self, mainloop_e: float = 1.0) -> list[Op]:
        """The module's kernels; the grouped GEMMs' main loops at `mainloop_e` of the dense peak."""
        t, h, f = self.num_tokens, self.hidden_size, self.expert_intermediate_size
        a = DTYPE_BYTES[self.dtype]
        copies, touched = self._copies_touched()
        rows = copies / np.maximum(touched, 1e-9)  # tokens per touched expert
        up = f * (2 if self.gated else 1)
        # rows the elementwise kernels walk: this rank's copies, or every copy (masked kernels)
        walked = t * self.top_k if self.every_copy and self.expert_parallel > 1 else copies
        routed = walked * h * a
        wd = self.weight_dtype
        router: list[Op] = [Gemm(t, self.num_experts, h, self.dtype)] if self.router else []
        # masked kernels: the GEMMs write zero rows for other ranks' copies (priced with the
        # activation's writes, as they add bytes and no launch)
        zeros = (walked - copies) * (up + h) * a
        return [
            *router,
            Elementwise("topk", t * self.num_experts * 4.0, t * self.top_k * 8.0),
            Elementwise("permute", routed, routed),
            Gemm(rows, up, h, self.dtype, wd, groups=touched, mainloop_e=mainloop_e),
            Elementwise("activation", walked * up * a, walked * f * a + zeros),
            Gemm(rows, h, f, self.dtype, wd, groups=touched, mainloop_e=mainloop_e),
            Elementwise("combine", routed + t * h * a, t * h * a),
        ]

    def _copies_touched(self):
        """(token copies, distinct experts touched) on this GPU (the busiest one under EP)."""
        t = self.num_tokens
        if self.expert_parallel > 1:
            return busiest_rank(t, self.num_experts, self.top_k, self.expert_parallel, self.load_imbalance)
        return t * self.top_k, experts_touched(t, self.num_experts, self.top_k)

    def cost(self) -> Cost:
        total = Cost(0.0, 0.0)
        for op in self.sub_ops():
            total = total + op.cost()
        return total

    def without_router(self) -> MoE:
        return replace(self, router=False)

    def time(self, hw):
        """Sub-op times, grouped GEMMs at the path's grouped-GEMM and main-loop efficiencies, plus
        the module's fixed cost and a cost per expert touched where there are tokens."""
        fp8 = "fp8" in (self.dtype, self.weight_dtype)
        path = hw.efficiency_in_use.moe.path(self.weight_scaling if fp8 else "none", self.runner)
        ops = self.sub_ops(path.mainloop_e)
        total = 0.0
        for i, op in enumerate(ops):
            grouped = isinstance(op, Gemm) and not (self.router and i == 0)
            total = total + (op.time(hw) / path.grouped_gemm_e if grouped else op.time(hw))
        per_module = path.t_fixed_s + path.expert_s * self._copies_touched()[1]
        return total + np.where(np.asarray(self.num_tokens) > 0, per_module, 0.0)

    def bound(self, hw) -> str:
        ops = self.sub_ops()
        slowest = max(ops, key=lambda op: float(np.max(op.time(hw))))
        return slowest.bound(hw)
