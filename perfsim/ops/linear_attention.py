"""Chunked linear attention with a matrix state (DeltaNet, Gated DeltaNet, GLA; fla kernels).

Per token and head, prefill does intra-chunk attention (2 C d_k for scores, 2 C d_v for values),
the delta rule's WY correction (another 2 C d_k), and state read/update (2 d_k d_v each, three
times for the delta rule, twice for GLA). Decode updates the d_k x d_v state once per token.

Prefill is either one fused kernel (FlashInfer) or fla's pipeline of kernels whose compute and
memory times add (`prefill_kernel`). It also has a latency floor the measured kernel tables
expose (aiconfigurator-core GDN rows): the chunk states are passed from chunk to chunk in
sequence, one chain per (sequence, head), so the kernel takes at least
chunks x `scan.chunk_step_s` x ceil(chains / SMs) (whole waves: the measured time is flat up to
one chain per SM and steps at each further wave), plus a start cost per chain
(`scan.chain_setup_s` x chains / SMs) that short prompts on many heads pay. q and k are read per
key head (`num_k_heads`; value heads share them).
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
    #: Query/key heads (grouped value attention: value heads share them); None: num_heads.
    num_k_heads: int | None = None
    #: Whether the scan reads an initial state and writes its final state (serving: yes; a
    #: fresh prompt timed without a state cache: no).
    carries_state: bool = True
    #: "fused": one prefill kernel (FlashInfer's sm90 GDN prefill), the larger roofline term;
    #: "chunked": fla's Triton pipeline (WY prep, chunk states, outputs), the terms add.
    prefill_kernel: Literal["fused", "chunked"] = "chunked"

    @property
    def kernel_count(self) -> int:
        # fla chunked forward: (WY prep for delta rule), chunk states, outputs; decode: fused recurrent
        return (4 if self.variant != "gla" else 3) if self.phase == "prefill" else 1

    def _terms(self, hw):
        t_c, t_m, fixed = super()._terms(hw)
        if self.phase == "prefill":
            scan = hw.efficiency_in_use.scan
            chains = np.maximum(self.batch * self.num_heads, 1.0)
            waves = np.ceil(chains / hw.compute.sm_count)
            step_s = scan.chunk_step_s
            if step_s is None:  # w h and k^T u of one chunk (2 x 2 C d_k d_v) on one SM
                per_sm = hw.peak_flops(self.dtype) * scan.e_flops / hw.compute.sm_count
                step_s = 4.0 * self.chunk_size * self.head_k_dim * self.head_v_dim / per_sm
            chain_s = np.ceil(self.seq_len / self.chunk_size) * step_s * waves
            # fused: the chain hides the work or the work the chain; fla: the sequential
            # chunk-state kernel is one kernel of the pipeline, after the parallel ones
            t_c = np.maximum(t_c, chain_s) if self.prefill_kernel == "fused" else t_c + chain_s
            t_c = t_c + chains * scan.chain_setup_s / hw.compute.sm_count
        return t_c, t_m, fixed

    def time(self, hw):
        if self.phase == "decode" or self.prefill_kernel == "fused":
            return super().time(hw)
        # fla's chunked prefill is a pipeline of separate kernels, each bound by its own
        # operands: their times add (no overlap across kernels) rather than hide behind the larger
        t_c, t_m, fixed = self._terms(hw)
        return np.where((self.batch > 0) & (self.seq_len > 0), fixed + t_c + t_m, 0.0)

    def state_bytes_per_seq(self) -> float:
        return self.num_heads * self.head_k_dim * self.head_v_dim * DTYPE_BYTES[self.state_dtype]

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        h, dk, dv = self.num_heads, self.head_k_dim, self.head_v_dim
        delta = self.variant != "gla"
        tokens = self.batch * self.seq_len
        hk = h if self.num_k_heads is None else self.num_k_heads
        # q and k per query/key head; v, the output and the gates per value head
        io = tokens * (2 * hk * dk + 2 * h * dv) * a + tokens * h * (dk if self.variant == "gla" else 2) * a
        state_rw = 2.0 * self.batch * self.state_bytes_per_seq() * float(self.carries_state)
        state_flops = (6.0 if delta else 4.0) * dk * dv
        if self.phase == "decode":
            return Cost(tokens * h * state_flops, io + state_rw)
        c = np.minimum(self.chunk_size, self.seq_len)
        flops = tokens * h * (2.0 * c * ((2 if delta else 1) * dk + dv) + state_flops)
        chunks = self.batch * np.ceil(self.seq_len / self.chunk_size)
        # fla's pipeline stores every chunk's starting state for the output pass in the activation
        # dtype (h = k.new_empty(...)), written once and read once; a fused kernel keeps it on chip
        chunk_states = 2.0 * chunks * h * dk * dv * a * float(self.prefill_kernel == "chunked")
        return Cost(flops, io + chunk_states + state_rw)
