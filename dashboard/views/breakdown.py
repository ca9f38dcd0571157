"""Breakdown tab: latency and memory traffic by operator family, and the per-kernel table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_latency_fig, make_traffic_fig
from perfsim.dashboard.fmt import duration, number, size
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, csv_button, ready

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
    """Per-kernel rows of both forwards in SI units (seconds, FLOP, bytes): the CSV and JSON export."""
    frames = []
    for phase, step in zip(PHASES, (result.prefill, result.decode), strict=True):
        b = step.breakdown
        frames.append(pd.DataFrame({
            "phase": phase, "sublayer": b["sublayer"], "kernel": b["kernel"], "family": b["family"],
            "instances": b["count"], "time_s": b["time_s"], "share": b["share"], "flops": b["flops"],
            "bytes": b["bytes"], "bound": b["bound"]}))
    return pd.concat(frames, ignore_index=True)


def shown_table(kernels: pd.DataFrame) -> pd.DataFrame:
    """The kernel table for reading: times in µs, ms or s by magnitude, sizes in kB..GB."""
    return pd.DataFrame({
        "phase": kernels["phase"], "sublayer": kernels["sublayer"], "kernel": kernels["kernel"],
        "family": kernels["family"], "instances": kernels["instances"],
        "time": kernels["time_s"].map(duration), "share of step": kernels["share"].map(lambda v: f"{v:.1%}"),
        "work": kernels["flops"].map(lambda v: f"{number(v / 1e9)} GFLOP"),
        "moved": kernels["bytes"].map(size),
        "bound": kernels["bound"]})


def export(setup: ReadySetup, state=None) -> dict:
    """The tab's numbers for the JSON export: per-family and per-kernel, in SI units."""
    result = runs.request(setup, check_memory=False)
    return {"families": family_frame(result).to_dict(orient="records"),
            "kernels": kernel_table(result).to_dict(orient="records")}


def with_baseline(frame: pd.DataFrame, base_frame: pd.DataFrame) -> pd.DataFrame:
    """Both what-ifs in one frame, phases labelled 'baseline · ...' and 'variant · ...', so each
    chart shows the two stacks side by side per phase."""
    return pd.concat([base_frame.assign(phase="baseline · " + base_frame["phase"]),
                      frame.assign(phase="variant · " + frame["phase"])], ignore_index=True)


def _what(setup: ReadySetup) -> tuple:
    return setup.key, setup.batch, setup.prompt_len, setup.output_len, repr(setup.decoding)


def render(setup: Setup, base: ReadySetup | None = None) -> None:
    """Where each forward's time and memory traffic go, by operator family and per kernel (next
    to the pinned baseline's, when there is one)."""
    if not ready(setup):
        return
    result = runs.request(setup, check_memory=False)
    if not runs.memory(setup).fits:
        st.warning("This what-if does not fit in memory; the breakdown shows its cost as if it did.")
    frame = family_frame(result)
    what = f"{setup.model.id} on {setup.hardware.id}, batch {setup.batch}"
    if base is not None and _what(base) != _what(setup):
        frame = with_baseline(frame, family_frame(runs.request(base, check_memory=False)))
        what += f" vs baseline {base.model.id} on {base.hardware.id}, batch {base.batch}"
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
    kernels = kernel_table(result)
    st.dataframe(shown_table(kernels), hide_index=True, key="breakdown_table")
    csv_button(kernels, "perfsim-breakdown-kernels.csv", "breakdown")
