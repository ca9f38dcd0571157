"""Gated DeltaNet and Mamba2 tables (gdn_perf.parquet, mamba2_perf.parquet): the recurrent core
and the causal depthwise conv1d in front of it, each timed as its own kernel.

Collector facts (collector/<framework>/collect_gdn.py): latency in ms; context rows run `batch`
prompts of `seq_len` tokens from an empty state (chunked kernel, fp32 state), generation rows one
token per sequence (fused recurrent update). The conv runs over conv_dim = 2 x key heads x head_k
+ value heads x head_v channels (Mamba2: heads x head_dim + 2 x groups x state) with a
(d_conv - 1)-token state per channel. The GDN state is one head_k x head_v matrix per value head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from perfsim.calibration.tables.family import FRACTION, SECONDS, Bounds, Family, arr, finish, grouped_time
from perfsim.ops import Elementwise, LinearAttention

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("kind", "phase", "num_k_heads", "num_v_heads", "head_k_dim", "head_v_dim", "conv_dim", "d_conv",
          "batch", "seq_len")
_GROUP = ("kind", "phase", "num_k_heads", "num_v_heads", "head_k_dim", "head_v_dim", "conv_dim", "d_conv")


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    source = raw["kernel_source"]
    kind = np.where(source.str.startswith("causal_conv1d"), "conv1d", "gdn")
    if "nheads" in raw:  # mamba2 table: conv only
        conv_dim = raw["nheads"] * raw["head_dim"] + 2 * raw["n_groups"] * raw["d_state"]
        heads: dict[str, Any] = {c: 0 for c in ("num_k_heads", "num_v_heads", "head_k_dim", "head_v_dim")}
    else:
        conv_dim = 2 * raw["num_k_heads"] * raw["head_k_dim"] + raw["num_v_heads"] * raw["head_v_dim"]
        heads = {c: raw[c] for c in ("num_k_heads", "num_v_heads", "head_k_dim", "head_v_dim")}
    frame = raw.assign(kind=kind, phase=np.where(raw["phase"] == "context", "prefill", "decode"),
                       conv_dim=conv_dim, batch=raw["batch_size"],
                       seq_len=np.where(raw["phase"] == "context", raw["seq_len"], 1),
                       measured_s=raw["latency"].astype(float) * 1e-3, **heads)
    frame = frame[(frame["kind"] == "conv1d") | (frame["num_v_heads"] > 0)]
    frame["family"] = frame["kind"] + "_" + frame["phase"]
    return finish(frame, _SHAPE)


def conv1d(batch, seq_len, channels: int, width: int, phase: str) -> Elementwise:
    """Depthwise causal conv: bf16 tokens in and out, weights, and the conv state (read, and at
    decode written back in place)."""
    tokens = batch * seq_len
    state = batch * (width - 1) * channels * 2.0
    read = tokens * channels * 2.0 + channels * width * 2.0 + state
    written = tokens * channels * 2.0 + state
    return Elementwise("conv1d", read, written, flops=2.0 * tokens * channels * width)


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        kind, phase, _k_heads, v_heads, dk, dv, conv_dim, width = key
        b, s = arr(group, "batch"), arr(group, "seq_len")
        if kind == "conv1d":
            return [conv1d(b, s, int(conv_dim), int(width), phase)]
        return [LinearAttention(phase, b, s, int(v_heads), int(dk), int(dv), "gated_deltanet")]

    return grouped_time(hw, frame, _GROUP, ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    if (frame["kind"] == "conv1d").all():
        return {"memory.e_bw": FRACTION, "memory.t_fixed_s": SECONDS}
    if (frame["phase"] == "decode").all():  # the fused recurrent kernel: figures of its own
        return {"scan.decode_e_bw": FRACTION, "scan.decode_t_fixed_s": SECONDS}
    return {"scan.e_flops": FRACTION, "scan.e_bw": FRACTION, "scan.t_fixed_s": SECONDS,
            "scan.chunk_step_s": SECONDS}


FAMILY = Family("linear_attention", ("gdn_perf.parquet", "mamba2_perf.parquet"), rows, predict, params)
