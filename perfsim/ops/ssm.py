"""Mamba2 (SSD) scan kernels: chunked scan for prefill, one-step state update for decode.

Prefill follows the SSD chunked algorithm (Dao & Gu, 2024): within a chunk of Q tokens an
attention-like product (C B^T, Q x Q per group, and its product with X), plus chunk-state
computation and state-to-output (2 N P FLOPs each per token and head). Intermediate chunk states
are written and re-read in fp32. Decode reads and writes the (N x P) state per head once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfsim.ops.base import Cost, ScanOp, register_op
from perfsim.units import DTYPE_BYTES


@register_op("mamba2")
@dataclass(frozen=True)
class Mamba2(ScanOp):
    """SSD core for `batch` sequences of `seq_len` new tokens (projections and conv are separate)."""

    phase: Literal["prefill", "decode"]
    batch: float | np.ndarray
    seq_len: float | np.ndarray
    num_heads: int
    head_dim: int
    state_size: int
    n_groups: int = 1
    chunk_size: int = 256
    dtype: str = "bf16"
    state_dtype: str = "fp32"

    @property
    def kernel_count(self) -> int:
        # mamba-ssm prefill: chunk_cumsum, chunk_state, state_passing, bmm (CB), chunk_scan
        return 5 if self.phase == "prefill" else 1

    def state_bytes_per_seq(self) -> float:
        return self.num_heads * self.head_dim * self.state_size * DTYPE_BYTES[self.state_dtype]

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        h, p, n, g = self.num_heads, self.head_dim, self.state_size, self.n_groups
        tokens = self.batch * self.seq_len
        io = tokens * (2 * h * p * a + 2 * g * n * a + h * 4.0)  # x in, y out, B and C, dt
        state_rw = 2.0 * self.batch * self.state_bytes_per_seq()
        if self.phase == "decode":
            return Cost(tokens * h * p * n * 6.0, io + state_rw)
        q = np.minimum(self.chunk_size, self.seq_len)
        flops = tokens * (2.0 * q * n * g + 2.0 * q * p * h + 4.0 * n * p * h)
        chunks = self.batch * np.ceil(self.seq_len / self.chunk_size)
        chunk_states = 2.0 * chunks * h * p * n * 4.0
        return Cost(flops, io + chunk_states + state_rw)
