"""Frontier tab: latency versus accuracy of several designs on several devices, with each
device's Pareto front (`perfsim.evaluate_frontier`, `perfsim.pareto_mask`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.edits import supports
from perfsim.dashboard.figures import make_frontier_fig
from perfsim.dashboard.sidebar import Setup
from perfsim.dashboard.views.common import chart, ready
from perfsim.explore.report import DEFAULT_HARDWARE, DEFAULT_MODELS
from perfsim.io.catalog import list_ids

#: frame column -> (axis title, scale to the axis unit)
LATENCIES = {"e2e_s": ("End-to-end latency (s)", 1.0), "ttft_s": ("TTFT (ms)", 1e3),
             "tpot_s": ("TPOT (ms)", 1e3)}


def fronts(frame: pd.DataFrame, latency: str) -> pd.DataFrame:
    """`on_front` recomputed per device for the chosen latency (min) and accuracy (max), over the
    designs that fit and have a score."""
    frame = frame.copy()
    frame["on_front"] = False
    usable = frame["fits"] & frame[latency].notna() & frame["accuracy"].notna()
    for _, rows in frame[usable].groupby("hardware", sort=False):
        mask = perfsim.pareto_mask(rows, {latency: "min", "accuracy": "max"})
        frame.loc[rows.index, "on_front"] = list(mask)
    return frame


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The frontier frame with unit-bearing columns, front members first."""
    out = pd.DataFrame({
        "design": frame["design"], "device": frame["hardware"], "on front": frame["on_front"],
        "accuracy": frame["accuracy"], "accuracy source": frame["accuracy_source"],
        "params (B)": frame["params"] / 1e9, "active (B)": frame["active_params"] / 1e9,
        "TTFT (ms)": frame["ttft_s"] * 1e3, "TPOT (ms)": frame["tpot_s"] * 1e3, "E2E (s)": frame["e2e_s"],
        "tok/s": frame["tokens_per_s"], "max batch": frame["max_batch"], "fits": frame["fits"]})
    return out.sort_values(["device", "on front", "E2E (s)"], ascending=[True, False, True])


def render(setup: Setup) -> None:
    """The what-if among other designs on several devices: who is on the latency-accuracy front."""
    if not ready(setup):
        return
    models, devices = list_ids("models"), list_ids("hwprofiles")
    c1, c2, c3 = st.columns([3, 2, 1])
    picked = c1.multiselect("Designs (the sidebar's model is always included)", models,
                            default=[m for m in DEFAULT_MODELS if m in models], key="fr_designs")
    others = c2.multiselect("Devices (besides the sidebar's)", devices,
                            default=[h for h in DEFAULT_HARDWARE if h in devices and h != setup.hardware.id],
                            key="fr_devices")
    latency = c3.selectbox("Latency", list(LATENCIES), format_func=lambda k: LATENCIES[k][0],
                           key="fr_latency")
    designs = [setup.model] + [m for m in picked if m != setup.model.id]
    hardware = [setup.hardware]
    for device in (perfsim.load_hardware(h) for h in others if h != setup.hardware.id):
        problem = supports(device, setup.model)
        if problem:  # e.g. fp8 activations on a device without fp8 tensor cores
            st.warning(f"{device.id} left out: {problem}")
        else:
            hardware.append(device)
    try:
        frame = runs.frontier(setup, designs, hardware)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return
    frame = fronts(frame, latency)
    x_title, scale = LATENCIES[latency]
    title = (f"Latency vs accuracy: batch {setup.batch}, prompt {setup.prompt_len:,} → output "
             f"{setup.output_len:,}, {setup.decoding.describe()}")
    chart(make_frontier_fig(frame, x=latency, x_title=x_title, x_scale=scale, current=setup.model.id,
                            title=title), "frontier")
    missing = frame[~frame["fits"]]
    unscored = frame[frame["fits"] & frame["accuracy"].isna()]
    notes = ["Filled markers are on their device's Pareto front (lower latency, higher accuracy); the "
             "star is the sidebar's what-if."]
    if len(missing):
        notes.append("Not fitting in memory (not drawn): "
                     + ", ".join(f"{r.design} on {r.hardware}" for r in missing.itertuples()) + ".")
    if len(unscored):
        notes.append("No accuracy estimate (not drawn): "
                     + ", ".join(sorted(set(unscored["design"]))) + ".")
    st.caption(" ".join(notes))
    st.dataframe(table(frame), hide_index=True, key="frontier_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3g")
                                for c in ("accuracy", "params (B)", "active (B)", "TTFT (ms)", "TPOT (ms)",
                                          "E2E (s)", "tok/s")})
