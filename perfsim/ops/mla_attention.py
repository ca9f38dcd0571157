"""Multi-head latent attention kernels (DeepSeek-V2/V3 MLA), priced with `attention.mla` figures.

Two forms do the same attention (DeepSeek-V2, arXiv 2405.04434, sec. 2.1.3):
- absorbed: queries are mapped into the latent, so every query head attends over one shared KV
  head of kv_lora_rank + qk_rope_head_dim values whose first kv_lora_rank are also the values
  (FlashMLA, FA3's MLA path). Little KV traffic per FLOP: at 128 heads it is compute-bound.
- expanded: K and V are decompressed per head first, then ordinary attention with
  qk_nope + qk_rope wide keys and v_head_dim wide values (prefill in TensorRT-LLM and vLLM).
Prefill pays for whole query tiles and a pipeline fill over keys (`kv_half`), decode for at least
`min_query_rows` query rows per MMA tile and a cost per sequence; both for the exponentials'
special-function time (`attention.softmax_cost_flops`), as the standard attention op does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfsim.ops.attention import visible_keys
from perfsim.ops.base import Cost, Op, dominant, register_op
from perfsim.units import DTYPE_BYTES


@register_op("mla_attention")
@dataclass(frozen=True)
class MLAAttention(Op):
    """Core MLA attention for `batch` sequences of `q_len` new tokens over `kv_len` keys each
    (kv_len includes the new tokens); `num_heads` query heads on this GPU."""

    phase: Literal["prefill", "decode"]
    batch: float | np.ndarray
    q_len: float | np.ndarray
    kv_len: float | np.ndarray
    num_heads: int
    absorbed: bool = True
    kv_lora_rank: int = 512
    qk_rope_head_dim: int = 64
    qk_nope_head_dim: int = 128
    v_head_dim: int = 128
    dtype: str = "bf16"
    kv_dtype: str | None = None
    causal: bool = True

    def __post_init__(self) -> None:
        if self.phase not in ("prefill", "decode"):
            raise ValueError(f"phase must be 'prefill' or 'decode', not {self.phase!r}")

    @property
    def _dims(self) -> tuple[int, int, int]:
        """(QK head dim, V head dim, KV heads) of the form run."""
        if self.absorbed:
            return self.kv_lora_rank + self.qk_rope_head_dim, self.kv_lora_rank, 1
        return self.qk_nope_head_dim + self.qk_rope_head_dim, self.v_head_dim, self.num_heads

    def _bytes(self):
        """(query and output bytes, key and value bytes)."""
        qk, dv, _ = self._dims
        a = DTYPE_BYTES[self.dtype]
        kv_b = DTYPE_BYTES[self.kv_dtype or self.dtype]
        q_and_o = self.batch * self.q_len * self.num_heads * (qk + dv) * a
        if self.absorbed:  # the cached latent is read once for all heads
            return q_and_o, self.batch * self.kv_len * qk * kv_b
        # decompressed K and V (GEMM outputs; quantised copies with an fp8 cache)
        return q_and_o, self.batch * self.kv_len * self.num_heads * (qk + dv) * min(a, kv_b)

    def cost(self) -> Cost:
        qk, dv, _ = self._dims
        scores = self.batch * self.num_heads * visible_keys(self.q_len, self.kv_len, None, self.causal)
        return Cost(2.0 * (qk + dv) * scores, sum(self._bytes()))

    def _terms(self, hw):
        att = hw.efficiency_in_use.attention
        mla = att.mla
        fp8 = mla.kv_fp8 if self.kv_dtype == "fp8" else None
        qk, dv, kv_heads = self._dims
        peak = hw.peak_flops(self.dtype)
        scores = visible_keys(self.q_len, self.kv_len, None, self.causal)
        if self.causal and self.phase == "prefill":  # diagonal key blocks are computed in full
            scores = np.minimum(scores + self.q_len * att.tile_q / 2, self.q_len * self.kv_len)
        per_score = 2.0 * (qk + dv) + att.softmax_cost_flops * peak / hw.peak_flops("bf16")
        work = per_score * self.batch * self.num_heads * scores
        q_and_o, kv = self._bytes()
        bw = hw.memory.peak_bw_bytes_per_s
        n_sm = hw.compute.sm_count
        if self.phase == "prefill":
            # whole query tiles per CTA (query heads sharing a KV head packed into one tile's
            # rows), waves over the SMs, and the inner loop's fill over keys
            group = self.num_heads // kv_heads
            tiles = np.ceil(self.q_len * group / att.tile_q) * kv_heads
            padded = np.maximum(tiles * att.tile_q, 1) / np.maximum(self.q_len * self.num_heads, 1)
            ctas = self.batch * tiles
            u_wave = ctas / np.maximum(np.ceil(ctas / n_sm) * n_sm, n_sm)
            keys = scores / np.maximum(self.q_len, 1)
            u_kv = keys / (keys + mla.kv_half)
            e = fp8.prefill_e if fp8 else mla.prefill_e
            t_c = work * padded / np.maximum(peak * e * u_wave * u_kv, 1.0)
            stream = bw * hw.efficiency_in_use.memory.e_bw
            # the exposed share of query/output traffic adds to whichever roof binds
            t_m = (q_and_o + kv) / stream
            exposed = mla.prefill_qo_exposed * q_and_o / stream
            return t_c + exposed, t_m + exposed, mla.t_fixed_s
        # decode: one pass over the latent serves every query head; MMA tiles have >= M rows
        rows = np.maximum(self.q_len * self.num_heads / kv_heads, 1)
        padded = np.maximum(rows, att.min_query_rows) / rows
        # without split-KV a sequence runs on its head tiles' CTAs alone: the busy SMs' share
        busy = 1.0
        if mla.decode_kv_splits is not None:
            ctas = self.batch * kv_heads * np.ceil(rows / att.min_query_rows) * mla.decode_kv_splits
            busy = np.minimum(np.maximum(ctas, 1.0) / n_sm, 1.0)  # an empty batch still divides
        t_c = work * padded / (peak * (fp8 or mla).decode_e_flops * busy)
        # queries and outputs stream at the bf16 rate, the cache at its own dtype's
        t_m = (q_and_o / mla.decode_e_bw + kv / (fp8 or mla).decode_e_bw) / (
            bw * busy
        ) + mla.decode_item_s * self.batch
        return t_c, t_m, mla.t_fixed_s

    def time(self, hw):
        t_c, t_m, fixed = self._terms(hw)
        active = (self.batch > 0) & (self.q_len > 0)
        return np.where(active, fixed + np.maximum(t_c, t_m), 0.0)

    def bound(self, hw) -> str:
        return dominant(*self._terms(hw))
