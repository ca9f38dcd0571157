"""FlashAttention-style fused attention for prefill (compute-bound) and decode (KV-read-bound).

Work is counted exactly for causal and sliding-window masks: query at absolute position p sees
min(p + 1, window) keys. FlashAttention skips fully masked key blocks but computes diagonal
blocks in full, so half a query tile of extra keys per query is added for causal masks. Prefill
rows are padded to whole query tiles (a CTA computes all tile_q rows of its tile).

Two terms the measured kernel tables expose (aiconfigurator-core, H100/A100): each score's
softmax exponential costs `softmax_cost_flops` matrix FLOPs on the special-function units, so a
head dim of 64 runs at about half the FLOP rate of 256; and decode pays `decode_item_s` per
(sequence, KV head) work item, which dominates large batches of short contexts. An fp8 KV cache
has figures of its own (`kv_fp8`), sliding windows pay for the key blocks their lower edge cuts,
and short prompts pack a KV head's query heads into one tile. Decode kernels that serve a bounded
group of query heads per KV pass (TensorRT-LLM's XQA, `decode_max_group`) run MHA and larger
groups one query head per pass, re-reading each KV head; and XQA pays per split-KV CTA of the
whole history, which sliding windows do not shorten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfsim.ops.base import Cost, Op, dominant, register_op
from perfsim.units import DTYPE_BYTES

#: TensorRT-LLM XQA's split-KV rule (decoderXQAConstants.h: kMinHistoryTokensPerBlock,
#: kTargetWaveFactor): a CTA per 128 history tokens, at most 8 waves of CTAs over the SMs.
SPLIT_TOKENS = 128.0
TARGET_WAVES = 8.0


def visible_keys(q_len, kv_len, window=None, causal=True):
    """Sum over the q_len newest queries of the keys each attends to (kv_len includes them)."""
    q_len = np.asarray(q_len, dtype=float)
    kv_len = np.asarray(kv_len, dtype=float)
    if not causal:
        per_query = kv_len if window is None else np.minimum(kv_len, window)
        return q_len * per_query
    lo, hi = kv_len - q_len + 1, kv_len  # visible counts x = p + 1 run from lo to hi

    def tri(x):  # sum of 1..x
        return x * (x + 1) / 2

    if window is None:
        return tri(hi) - tri(lo - 1)
    cap = np.clip(window, lo - 1, hi)  # queries up to `cap` see all their keys, later ones `window`
    return tri(cap) - tri(lo - 1) + window * (hi - cap)


def _or(value, default):
    """`value` unless it is unset (None or False), else `default`."""
    return default if value is None or value is False else value


def windowed_queries(q_len, kv_len, window=None):
    """How many of the q_len newest queries have a window that starts past key 0."""
    if window is None:
        return np.zeros_like(np.asarray(q_len, dtype=float))
    first = np.asarray(kv_len, dtype=float) - q_len  # absolute position of the oldest new query
    return np.clip(kv_len - np.maximum(window, first), 0.0, q_len)


@register_op("attention")
@dataclass(frozen=True)
class Attention(Op):
    """Core attention (QK^T, softmax, PV) for `batch` sequences of `q_len` new tokens each.

    `kv_len` is the total number of keys per sequence including the new tokens. Decode phase is
    q_len new tokens (1, or k+1 for speculative verification) against a cached prefix.
    `v_head_dim` (default `head_dim`) is the value/output width per head; `shared_kv` means the
    values are the keys' first `v_head_dim` values, so only keys are read (MLA's absorbed latent).
    `impl` names the kernel implementation whose efficiency prices it (perfsim.spec.attention_impls).
    """

    phase: Literal["prefill", "decode"]
    batch: float | np.ndarray
    q_len: float | np.ndarray
    kv_len: float | np.ndarray
    num_heads: int
    num_kv_heads: int
    head_dim: int
    window: int | None = None
    dtype: str = "bf16"
    kv_dtype: str | None = None
    causal: bool = True
    v_head_dim: int | None = None
    shared_kv: bool = False
    #: Kernel implementation (a runtime's choice); None: the hardware profile's default.
    impl: str | None = None

    def __post_init__(self) -> None:
        if self.phase not in ("prefill", "decode"):
            raise ValueError(f"phase must be 'prefill' or 'decode', not {self.phase!r}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError("num_heads must be a multiple of num_kv_heads")

    def _keys_read(self):
        """Keys (and values) each sequence must read from memory."""
        if self.window is None:
            return self.kv_len
        return np.minimum(self.kv_len, self.window + self.q_len - 1)

    def _flops_per_score(self) -> float:
        """QK^T and PV FLOPs per (query, key, head)."""
        if self.v_head_dim is None:
            return 4.0 * self.head_dim
        return 2.0 * (self.head_dim + self.v_head_dim)

    def cost(self) -> Cost:
        a = DTYPE_BYTES[self.dtype]
        kv_b = DTYPE_BYTES[self.kv_dtype or self.dtype]
        scores = self.batch * self.num_heads * visible_keys(
            self.q_len, self.kv_len, self.window, self.causal
        )
        flops = self._flops_per_score() * scores
        if self.v_head_dim is None and not self.shared_kv:
            q_and_o = 2.0 * self.batch * self.q_len * self.num_heads * self.head_dim * a
            kv = 2.0 * self.batch * self._keys_read() * self.num_kv_heads * self.head_dim * kv_b
        else:
            dv = self.head_dim if self.v_head_dim is None else self.v_head_dim
            per_key = self.head_dim if self.shared_kv else self.head_dim + dv
            q_and_o = self.batch * self.q_len * self.num_heads * (self.head_dim + dv) * a
            kv = self.batch * self._keys_read() * self.num_kv_heads * per_key * kv_b
        return Cost(flops, q_and_o + kv)

    def _terms(self, hw):
        eff = hw.efficiency_in_use.attention.of(self.impl, self.phase, f"hardware profile '{hw.id}'")
        n_sm = hw.compute.sm_count
        cost = self.cost()
        fp8 = eff.kv_fp8 if self.kv_dtype == "fp8" else None
        e = _or(fp8 and fp8.prefill_e, eff.prefill_e_for(self.dtype))
        peak = hw.peak_flops(self.dtype) * e
        scores = visible_keys(self.q_len, self.kv_len, self.window, self.causal)
        if self.causal:  # diagonal blocks are computed in full
            scores = scores + self.q_len * eff.tile_q / 2
        # and so are the blocks a sliding window's lower edge cuts, for every query whose window
        # starts past key 0 (about half a tile of masked keys each, like the diagonal)
        scores = np.minimum(scores + windowed_queries(self.q_len, self.kv_len, self.window) * eff.tile_q / 2,
                            self.q_len * self.kv_len)
        flops = self._flops_per_score() * self.batch * self.num_heads * scores
        # softmax exponentials run on the special-function units, whose rate is tied to the
        # bf16 matrix rate, not to the dtype's: priced in bf16-FLOP equivalents, rescaled
        softmax = (eff.softmax_cost_flops * self.batch * self.num_heads * scores
                   * hw.peak_flops(self.dtype) / hw.peak_flops("bf16"))
        if self.phase == "prefill":
            # Each CTA computes a full tile_q-row query tile, so the partly filled last tile costs
            # as much as a full one: price the padded work (rows rounded up to whole tiles, each
            # padded row costing the mean row), then divide by the SMs a wave keeps busy. Time is
            # waves x per-CTA work, so a token that opens a new tile never makes the kernel faster.
            # With grouped KV heads the kernel may instead pack a KV head's query heads into one
            # tile's rows (FA3 pack_gqa): it takes whichever needs fewer tiles, which for short
            # prompts is the packed one.
            group = self.num_heads // self.num_kv_heads
            tiles = np.minimum(np.ceil(self.q_len / eff.tile_q) * self.num_heads,
                               np.ceil(self.q_len * group / eff.tile_q) * self.num_kv_heads)
            rows = np.maximum(self.q_len * self.num_heads, 1)
            padded = np.maximum(tiles * eff.tile_q, 1) / rows
            ctas = self.batch * tiles
            u_wave = ctas / np.maximum(np.ceil(ctas / n_sm) * n_sm, n_sm)
            keys_per_query = scores / np.maximum(self.q_len, 1)
            u_kv = keys_per_query / (keys_per_query + _or(fp8 and fp8.kv_half, eff.kv_half))
            t_c = (flops + softmax) * padded / np.maximum(peak * u_wave * u_kv, 1.0)
            t_m = cost.bytes / (hw.memory.peak_bw_bytes_per_s * hw.efficiency_in_use.memory.e_bw)
        elif self._per_query_head(eff):
            t_c, t_m = self._per_head_decode(hw, eff, fp8, cost, flops + softmax, peak)
        else:  # split-KV decoding keeps all SMs busy; the KV stream is the roof
            rows = np.maximum(self.q_len * self.num_heads / self.num_kv_heads, 1)
            padded = np.maximum(rows, eff.min_query_rows) / rows  # MMA tiles have >= M rows
            t_c = (flops * padded + softmax) / peak
            t_m = cost.bytes / (hw.memory.peak_bw_bytes_per_s * _or(fp8 and fp8.decode_e_bw, eff.decode_e_bw))
            t_m = t_m + _or(fp8 and fp8.decode_item_s, eff.decode_item_s) * self.batch * self.num_kv_heads
        if self.phase == "decode":
            t_m = t_m + self._split_ctas_s(hw, eff, fp8)
        return t_c, t_m, eff.t_fixed_s + self._query_quant_s(hw, fp8)

    def _split_ctas_s(self, hw, eff, fp8):
        """Split-KV CTAs of a kernel that splits the whole history, not the window: TensorRT-LLM's
        XQA gives each sequence one CTA per SPLIT_TOKENS of history up to TARGET_WAVES waves of
        the SMs, and each costs `decode_split_cta_s` even when a sliding window leaves it no keys
        (measured: window-128 decode over 4k-128k tokens is ~20 us slower than over 128)."""
        if eff.decode_split_cta_s is None:
            return 0.0
        cta_s = _or(fp8 and fp8.decode_split_cta_s, eff.decode_split_cta_s)
        passes = self.num_heads if self._per_query_head(eff) else self.num_kv_heads
        splits = np.ceil(np.asarray(self.kv_len, dtype=float) / SPLIT_TOKENS)
        ctas = np.minimum(self.batch * passes * splits, TARGET_WAVES * hw.compute.sm_count)
        return cta_s * ctas

    def _per_query_head(self, eff) -> bool:
        """Whether decode runs a pass per query head: the grouped kernel serves at most
        `decode_max_group` query heads per KV head, and plain MHA runs the per-head kernel too."""
        group = self.num_heads // self.num_kv_heads
        plain = self.v_head_dim is None and not self.shared_kv  # MLA has kernels of its own
        return plain and eff.decode_max_group is not None and (group == 1 or group > eff.decode_max_group)

    def _per_head_decode(self, hw, eff, fp8, cost, work_flops, peak):
        """One pass per (sequence, query head): no MMA row padding, each KV head read once from HBM
        and again, mostly from L2, by each further query head of its group; a per-item cost. The
        re-reads run at the kernel's element rate: an fp8 cache, converted element by element to
        the attention dtype, re-reads no faster than that dtype's (measured: fp8 saves them nothing)."""
        bw = hw.memory.peak_bw_bytes_per_s
        kv_pass = self.batch * self._keys_read() * self.num_kv_heads * self.head_dim * 2.0
        rereads = kv_pass * DTYPE_BYTES[self.dtype] * (self.num_heads / self.num_kv_heads - 1.0)
        e_bw = _or(fp8 and fp8.decode_e_bw, eff.decode_e_bw)
        t_m = cost.bytes / (bw * e_bw) + rereads / (bw * _or(eff.decode_reread_e_bw, eff.decode_e_bw))
        item_s = _or(eff.decode_head_item_s, eff.decode_item_s)
        return work_flops / peak, t_m + item_s * self.batch * self.num_heads

    def _query_quant_s(self, hw, fp8):
        """A separate kernel quantising the queries to fp8 (bf16 read, fp8 written), if the
        runtime's kernel needs one (kv_fp8.query_quant_e_bw set): a streaming kernel's fixed cost
        (memory.t_fixed_s, what small decode batches see) plus its bytes."""
        if fp8 is None or fp8.query_quant_e_bw is None or self.dtype == "fp8":
            return 0.0
        elements = self.batch * self.q_len * self.num_heads * self.head_dim
        moved = elements * (DTYPE_BYTES[self.dtype] + 1.0)
        memory = hw.efficiency_in_use.memory
        return memory.t_fixed_s + moved / (hw.memory.peak_bw_bytes_per_s * fp8.query_quant_e_bw)

    def time(self, hw):
        t_c, t_m, fixed = self._terms(hw)
        active = (self.batch > 0) & (self.q_len > 0)
        return np.where(active, fixed + np.maximum(t_c, t_m), 0.0)

    def bound(self, hw) -> str:
        return dominant(*self._terms(hw))
