"""Chunked linear attention with a matrix state (DeltaNet, Gated DeltaNet, GLA; fla kernels).

Per token and head, prefill does intra-chunk attention (2 C d_k for scores, 2 C d_v for values),
the delta rule's WY correction (another 2 C d_k), and state read/update (2 d_k d_v each, three
times for the delta rule, twice for GLA). Decode updates the d_k x d_v state once per token.

Prefill also has a latency floor the measured kernel tables expose (aiconfigurator-core GDN rows):
the chunk states are passed from chunk to chunk in sequence, one chain per (sequence, head), so
the kernel takes at least chunks x `scan.chunk_step_s` x ceil(chains / SMs) (whole waves: the
measured time is flat up to one chain per SM and steps at each further wave).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfsim.ops.base import Cost, ScanOp, register_op
from perfsim.units import DTYPE_BYTES


@register_op("linear_attention")
@dataclass(frozen=True)
class LinearAttention(ScanOp):
    phase: Literal["prefill", "decode"]
    batch: float | np.ndarray
    seq_len: float | np.ndarray
    num_heads: int
    head_k_dim: int
    head_v_dim: int
    variant: Literal["deltanet", "gated_deltanet", "gla"] = "gated_deltanet"
    chunk_size: int = 64
    dtype: str = "bf16"
    state_dtype: str = "fp32"

    @property
    def kernel_count(self) -> int:
        # fla chunked forward: (WY prep for delta rule), chunk states, outputs; decode: fused recurrent
        return (4 if self.variant != "gla" else 3) if self.phase == "prefill" else 1

    def _terms(self, hw):
        t_c, t_m, fixed = super()._terms(hw)
        if self.phase == "prefill":
            step_s = hw.efficiency_in_use.scan.chunk_step_s
            waves = np.ceil(np.maximum(self.batch * self.num_heads, 1.0) / hw.compute.sm_count)
            t_c = np.maximum(t_c, np.ceil(self.seq_len / self.chunk_size) * step_s * waves)
        return t_c, t_m, fixed

    def state_bytes_per_seq(self) -> float:
        return self.num_heads * self.head_k_dim * self.head_v_dim * DTYPE_BYTES[self.state_dtype]

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        h, dk, dv = self.num_heads, self.head_k_dim, self.head_v_dim
        delta = self.variant != "gla"
        tokens = self.batch * self.seq_len
        io = tokens * h * (2 * dk + 2 * dv) * a + tokens * h * (dk if self.variant == "gla" else 2) * a
        state_rw = 2.0 * self.batch * self.state_bytes_per_seq()
        state_flops = (6.0 if delta else 4.0) * dk * dv
        if self.phase == "decode":
            return Cost(tokens * h * state_flops, io + state_rw)
        c = np.minimum(self.chunk_size, self.seq_len)
        flops = tokens * h * (2.0 * c * ((2 if delta else 1) * dk + dv) + state_flops)
        chunks = self.batch * np.ceil(self.seq_len / self.chunk_size)
        # every chunk's starting state is stored for the output pass in the activation dtype
        # (fla: h = k.new_empty(...)), written once and read once
        return Cost(flops, io + 2.0 * chunks * h * dk * dv * a + state_rw)
