"""Depthwise causal conv1d in front of Mamba2 and (Gated) DeltaNet scans, as its own kernel.

The conv streams its tokens once (in and out, bf16) with a (width - 1)-token state per channel:
prefill writes each sequence's final state, decode reads and rewrites it in place. It is priced as
a streaming kernel on the profile's memory figures, plus two things the measured tables expose
(aiconfigurator-core causal_conv1d_fn / causal_conv1d_update rows):

* decode is one tiny fused update whose fixed cost and state-stream efficiency differ from a
  prefill stream (`scan.conv_decode_e_bw`, `scan.conv_decode_t_fixed_s`; None: memory figures);
* the per-channel CUDA prefill kernel (Dao's causal-conv1d, timed on a (batch, channels, tokens)
  tensor) runs one thread block per (sequence, channel) row, so short prompts pay
  batch x channels x `scan.conv_row_s` / SMs however few tokens each row holds. The varlen
  Triton kernel vLLM and SGLang serve with tiles (token block, channel block) instead and has
  no such floor (`kernel="tiles"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op
from perfsim.units import DTYPE_BYTES


@register_op("causal_conv1d")
@dataclass(frozen=True)
class CausalConv1d(Op):
    """`batch` sequences of `seq_len` new tokens over `channels` channels, kernel `width`."""

    phase: Literal["prefill", "decode"]
    batch: float | np.ndarray
    seq_len: float | np.ndarray
    channels: int
    width: int
    dtype: str = "bf16"
    #: "tiles": varlen Triton kernel (token x channel blocks); "rows": one block per
    #: (sequence, channel) row (the CUDA kernel on a batched tensor)
    kernel: Literal["tiles", "rows"] = "tiles"

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        tokens = self.batch * self.seq_len
        state = self.batch * max(self.width - 1, 0) * self.channels * a
        # prefill writes the final state; decode reads it and writes it back shifted
        state_moved = 2.0 * state if self.phase == "decode" else state
        moved = 2.0 * tokens * self.channels * a + self.channels * self.width * a + state_moved
        return Cost(2.0 * tokens * self.channels * self.width, moved)

    def _terms(self, hw):
        mem, scan = hw.efficiency_in_use.memory, hw.efficiency_in_use.scan
        e_bw, fixed_s = mem.e_bw, mem.t_fixed_s
        if self.phase == "decode":
            e_bw = mem.e_bw if scan.conv_decode_e_bw is None else scan.conv_decode_e_bw
            fixed_s = mem.t_fixed_s if scan.conv_decode_t_fixed_s is None else scan.conv_decode_t_fixed_s
        cost = self.cost()
        t_m = cost.bytes / (hw.memory.peak_bw_bytes_per_s * e_bw)
        if self.kernel == "rows" and self.phase == "prefill":  # the update kernel blocks channels
            t_m = np.maximum(t_m, self.batch * self.channels * scan.conv_row_s / hw.compute.sm_count)
        return cost.flops / hw.peak_flops("fp32"), t_m, fixed_s

    def time(self, hw):
        t_c, t_m, fixed = self._terms(hw)
        return np.where(self.batch * self.seq_len > 0, fixed + np.maximum(t_c, t_m), 0.0)

    def bound(self, hw) -> str:
        return dominant(*self._terms(hw))
