"""Attention tables (context_/generation_attention_perf.parquet).

Collector facts (collector/<framework>/collect_attn.py): latency in ms; context rows run `isl`
new tokens per sequence with no cached prefix (step 0), causal; generation rows log isl = 1 and
step = the cached history, so the kernel attends over step + 1 keys. The timed region includes
writing the new K/V into the paged cache (a separate kernel unless the backend fuses it), priced
here as its own memory-bound op. `window_size` 0 is full attention. Each runtime's kernel is the
implementation its runtime profile names for this device (perfsim/spec/runtime.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import (
    DTYPES,
    FRACTION,
    LENGTH,
    SECONDS,
    Bounds,
    Family,
    arr,
    finish,
    grouped_time,
)
from perfsim.ops import Attention, Elementwise
from perfsim.units import DTYPE_BYTES

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.attention_impls import AttentionEfficiency
    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("phase", "dtype", "kv_dtype", "window", "num_heads", "num_kv_heads", "head_dim", "batch",
          "q_len", "kv_len")
_GROUP = ("phase", "dtype", "kv_dtype", "window", "num_heads", "num_kv_heads", "head_dim")
_PHASE_FIELD = {"prefill": "prefill_e", "decode": "decode_e_bw"}


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    context = raw["op_name"] == "context_attention"
    window = raw["window_size"] if "window_size" in raw else 0
    isl, step = raw["isl"].astype(float), raw["step"].astype(float)
    frame = raw.assign(
        phase=np.where(context, "prefill", "decode"),
        dtype=raw["attn_dtype"].map(DTYPES), kv_dtype=raw["kv_cache_dtype"].map(DTYPES),
        window=window, num_heads=raw["num_heads"], num_kv_heads=raw["num_key_value_heads"],
        batch=raw["batch_size"], q_len=np.where(context, isl, 1.0),
        kv_len=np.where(context, isl, step + 1.0), measured_s=raw["latency"].astype(float) * 1e-3)
    frame = frame[(frame["num_heads"] % frame["num_kv_heads"] == 0) & (frame["q_len"] > 0)]
    label: pd.Series = "attn_" + frame["phase"] + np.where(frame["kv_dtype"] == "fp8", "_fp8kv", "")
    frame["family"] = label + np.where(frame["window"] > 0, "_window", "")
    return finish(frame, _SHAPE)


def implementation(hw: HardwareProfile, runtime: str, phase: str) -> str | None:
    """The attention implementation `runtime` runs `phase` with on `hw` (None: the default)."""
    from perfsim.io.load import load_runtime

    kernels = load_runtime(runtime).on(hw.arch).kernels
    return kernels.attention_prefill if phase == "prefill" else kernels.attention_decode


def kv_write(batch, q_len, num_kv_heads: int, head_dim: int, kv_dtype: str) -> Elementwise:
    """Writing the step's new K and V (bf16 in) into the paged cache (kv_dtype out)."""
    elements = 2.0 * batch * q_len * num_kv_heads * head_dim
    return Elementwise("kv_cache_write", elements * 2.0, elements * DTYPE_BYTES[kv_dtype])


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    impls = {p: implementation(hw, runtime, p) for p in ("prefill", "decode")}

    def ops(key, group):
        phase, dtype, kv_dtype, window, heads, kv_heads, head_dim = key
        b, q, kv = arr(group, "batch"), arr(group, "q_len"), arr(group, "kv_len")
        attention = Attention(phase, b, q, kv, int(heads), int(kv_heads), int(head_dim),
                              window=int(window) or None, dtype=dtype, kv_dtype=kv_dtype,
                              causal=phase == "prefill", impl=impls[phase])
        return [attention, kv_write(b, q, int(kv_heads), int(head_dim), kv_dtype)]

    return grouped_time(hw, frame, _GROUP, ops)


def figure_path(att: AttentionEfficiency, impl: str | None, field: str) -> str:
    """The dotted path of the figure `impl` is really priced with: its own entry's if it sets
    `field`, else along `same_as` to the implementation that does (the default's fields last)."""
    seen: set[str] = set()
    while impl is not None and impl != att.impl and impl not in seen:
        seen.add(impl)
        entry = att.implementations[impl]
        if getattr(entry, field) is not None:
            return f"attention.implementations.{impl}.{field}"
        impl = entry.same_as if field in _PHASE_FIELD.values() else None
    return f"attention.{field}"


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    att = hw.efficiency_in_use.attention
    phase = str(frame["phase"].iloc[0])
    impl = implementation(hw, runtime, phase)
    bounds: Bounds = {}
    if (frame["kv_dtype"] == "fp8").all():
        # fp8-cache figures refine the bf16-cache ones (fitted after them, on their own labels)
        if phase == "decode":  # after prefill, which fits the query pass decode pays too
            bounds = {"attention.kv_fp8.decode_e_bw": FRACTION,
                      "attention.kv_fp8.decode_item_s": (1e-10, 1e-6)}
            if att.of(impl, "decode").decode_split_cta_s is not None:
                bounds["attention.kv_fp8.decode_split_cta_s"] = (1e-12, 1e-6)
            return bounds
        if (frame["dtype"] != "fp8").any():  # a query in another dtype may be quantised first
            bounds["attention.kv_fp8.query_quant_e_bw"] = FRACTION
        return bounds | {"attention.kv_fp8.prefill_e": (1e-3, 2.2), "attention.kv_fp8.kv_half": LENGTH}
    if phase == "prefill":  # the fixed cost is fitted on decode, where it is seen (prefill: shared)
        base = figure_path(att, impl, "prefill_e")
        bounds |= {f"{base}.{d}": FRACTION for d in sorted(frame["dtype"].unique())}
        bounds[figure_path(att, impl, "kv_half")] = LENGTH
        bounds[figure_path(att, impl, "softmax_cost_flops")] = (1.0, 2048.0)
    else:
        bounds[figure_path(att, impl, "t_fixed_s")] = SECONDS
        bounds[figure_path(att, impl, "decode_e_bw")] = FRACTION
        bounds[figure_path(att, impl, "decode_item_s")] = (1e-10, 1e-6)
        bounds |= _per_head_bounds(att, impl, frame)
        if att.of(impl, "decode").decode_split_cta_s is not None:
            bounds[figure_path(att, impl, "decode_split_cta_s")] = (1e-10, 1e-6)
    return bounds


def _per_head_bounds(att: AttentionEfficiency, impl: str | None, frame: pd.DataFrame) -> Bounds:
    """The per-query-head decode kernel's figures, where `impl` has one (decode_max_group set)
    and the rows run it (MHA, or groups above the limit, with and without re-read KV heads)."""
    limit = att.of(impl, "decode").decode_max_group
    if limit is None:
        return {}
    group = frame["num_heads"] // frame["num_kv_heads"]
    bounds: Bounds = {}
    if ((group == 1) | (group > limit)).any():
        bounds[figure_path(att, impl, "decode_head_item_s")] = (1e-10, 1e-6)
    if (group > limit).any():
        bounds[figure_path(att, impl, "decode_reread_e_bw")] = (1e-2, 4.0)
    return bounds


FAMILY = Family("attention", ("context_attention_perf.parquet", "generation_attention_perf.parquet"),
                rows, predict, params)
