"""Gated DeltaNet and Mamba2 tables (gdn_perf.parquet, mamba2_perf.parquet): the recurrent core
and the causal depthwise conv1d in front of it, each timed as its own kernel.

Collector facts (collector/<framework>/collect_gdn.py): latency in ms; context rows run `batch`
prompts of `seq_len` tokens from an empty state (chunked kernel, fp32 state), generation rows one
token per sequence (fused recurrent update). The conv runs over conv_dim = 2 x key heads x head_k
+ value heads x head_v channels (Mamba2: heads x head_dim + 2 x groups x state) with a
(d_conv - 1)-token state per channel. The GDN state is one head_k x head_v matrix per value head.

Two collector generations time the conv differently. vLLM and SGLang >= 0.5.14 convolve the packed
q/k/v channels as one varlen token stream (the Triton kernel serving runs). SGLang's earlier
collector (the A100 0.5.10 table) and TRT-LLM's GDN collector convolve the key channels alone
(num_k_heads x head_k_dim), and every TRT-LLM table (GDN and Mamba2) hands the conv a batched
(batch, channels, tokens) tensor, which runs the per-channel CUDA kernel: one thread block per
(sequence, channel) row. `conv_channels` and `conv_kernel` say which, per table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from perfsim.calibration.tables.family import FRACTION, SECONDS, Bounds, Family, arr, finish, grouped_time
from perfsim.ops import CausalConv1d, LinearAttention

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
    keys_only, batched = _collector(raw)
    out = finish(frame, _SHAPE)
    channels = out["num_k_heads"] * out["head_k_dim"] if keys_only else out["conv_dim"]
    fused = raw["kernel_source"].str.contains("flashinfer").any()  # vLLM's sm90 GDN prefill
    return out.assign(conv_channels=channels, conv_kernel="rows" if batched else "tiles",
                      scan_kernel="fused" if fused else "chunked")


def _collector(raw: pd.DataFrame) -> tuple[bool, bool]:
    """(conv over key channels only, conv on a batched tensor) for one published table."""
    framework = str(raw["framework"].iloc[0]).lower() if "framework" in raw and len(raw) else ""
    version = str(raw["version"].iloc[0]) if "version" in raw and len(raw) else ""
    release = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    old_sglang = framework == "sglang" and release < (0, 5, 14)
    trtllm = framework == "trtllm"
    return (old_sglang or trtllm) and "nheads" not in raw, old_sglang or trtllm


def conv1d(batch, seq_len, channels: int, width: int, phase: str, kernel: str = "tiles") -> CausalConv1d:
    """The depthwise causal conv a row timed (perfsim.ops.causal_conv)."""
    return CausalConv1d(phase, batch, seq_len, channels, width, kernel=kernel)  # type: ignore[arg-type]


def _with_conv_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows mapped without the collector columns (older CSVs): packed channels, varlen conv,
    fla's chunked scan."""
    if {"conv_channels", "conv_kernel", "scan_kernel"} <= set(frame.columns):
        return frame
    return frame.assign(conv_channels=frame["conv_dim"], conv_kernel="tiles", scan_kernel="chunked")


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        kind, phase, k_heads, v_heads, dk, dv, _conv_dim, width, channels, kernel, scan_kernel = key
        b, s = arr(group, "batch"), arr(group, "seq_len")
        if kind == "conv1d":
            return [conv1d(b, s, int(channels), int(width), phase, str(kernel))]
        # the batched collectors (conv kernel "rows") run the scan with no state cache at
        # prefill and keep the decode state in bf16; the packed ones pass an fp32 state pool
        batched = kernel == "rows"
        return [LinearAttention(phase, b, s, int(v_heads), int(dk), int(dv), "gated_deltanet",
                                state_dtype="bf16" if batched else "fp32", num_k_heads=int(k_heads),
                                carries_state=not (batched and phase == "prefill"),
                                prefill_kernel=scan_kernel)]

    keys = (*_GROUP, "conv_channels", "conv_kernel", "scan_kernel")
    return grouped_time(hw, _with_conv_columns(frame), keys, ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    if (frame["kind"] == "conv1d").all():
        if (frame["phase"] == "decode").all():  # the one-token update: figures of its own
            return {"scan.conv_decode_e_bw": FRACTION, "scan.conv_decode_t_fixed_s": SECONDS}
        rows_kernel = (_with_conv_columns(frame)["conv_kernel"] == "rows").any()
        return {"memory.e_bw": FRACTION, "memory.t_fixed_s": SECONDS,
                **({"scan.conv_row_s": SECONDS} if rows_kernel else {})}
    if (frame["phase"] == "decode").all():  # the fused recurrent kernel: figures of its own
        return {"scan.decode_e_bw": FRACTION, "scan.decode_t_fixed_s": SECONDS}
    return {"scan.e_flops": FRACTION, "scan.e_bw": FRACTION, "scan.t_fixed_s": SECONDS,
            "scan.chunk_step_s": SECONDS, "scan.chain_setup_s": SECONDS}


FAMILY = Family("linear_attention", ("gdn_perf.parquet", "mamba2_perf.parquet"), rows, predict, params)
