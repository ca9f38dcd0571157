"""Breakdown tab: latency and memory traffic by operator family, and the per-kernel table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_latency_fig, make_traffic_fig
from perfsim.dashboard.sidebar import Setup
from perfsim.dashboard.views.common import chart, ready

PHASES = ("prefill (TTFT)", "decode step")


def family_frame(result: perfsim.RequestResult) -> pd.DataFrame:
    """Time and bytes per operator family for each forward; launch overhead is its own family
    so each phase's times add up to its step latency."""
    rows = []
    for phase, step in zip(PHASES, (result.prefill, result.decode), strict=True):
        sums = step.breakdown.groupby("family", sort=False)[["time_s", "bytes"]].sum()
        rows += [{"phase": phase, "family": f, "time_s": r.time_s, "bytes": r.bytes}
                 for f, r in sums.iterrows()]
        rows.append({"phase": phase, "family": "launch overhead", "time_s": step.launch_overhead_s,
                     "bytes": 0.0})
    return pd.DataFrame(rows)


def kernel_table(result: perfsim.RequestResult) -> pd.DataFrame:
    """Per-kernel rows of both forwards with unit-bearing column names."""
    frames = []
    for phase, step in zip(PHASES, (result.prefill, result.decode), strict=True):
        b = step.breakdown
        frames.append(pd.DataFrame({
            "phase": phase, "sublayer": b["sublayer"], "kernel": b["kernel"], "family": b["family"],
            "instances": b["count"], "time (µs)": b["time_s"] * 1e6, "share of step (%)": b["share"] * 100,
            "GFLOP": b["flops"] / 1e9, "moved (MB)": b["bytes"] / 1e6, "bound": b["bound"]}))
    return pd.concat(frames, ignore_index=True)


def render(setup: Setup) -> None:
    """Where each forward's time and memory traffic go, by operator family and per kernel."""
    if not ready(setup):
        return
    result = runs.request(setup, check_memory=False)
    if not runs.memory(setup).fits:
        st.warning("This what-if does not fit in memory; the breakdown shows its cost as if it did.")
    frame = family_frame(result)
    what = f"{setup.model.id} on {setup.hardware.id}, batch {setup.batch}"
    left, right = st.columns(2)
    with left:
        chart(make_latency_fig(frame, f"Latency by operator family: {what}"), "breakdown_latency")
    with right:
        chart(make_traffic_fig(frame[frame["family"] != "launch overhead"],
                               f"Memory traffic by operator family: {what}"), "breakdown_traffic")
    start = setup.prompt_len + setup.model.prefix_tokens  # as perfsim.generate picks its decode step
    middle = round(start + max(setup.output_len - 2, 0) / 2)
    st.caption(f"Prefill: the whole batch's prompts in one forward. Decode step: one forward at the mean "
               f"decode context ({middle:,} cached tokens); decoding: {result.decoding}. The memory "
               f"footprint by part is on the Overview tab.")
    st.dataframe(kernel_table(result), hide_index=True, key="breakdown_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3g")
                                for c in ("time (µs)", "share of step (%)", "GFLOP", "moved (MB)")})
