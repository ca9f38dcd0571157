"""Frontier tab: latency versus accuracy of several designs on several devices, with each
device's Pareto front (`perfsim.evaluate_frontier`, `perfsim.pareto_mask`)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import fmt, provenance, runs, tabstate
from perfsim.dashboard.edits import supports
from perfsim.dashboard.figures import make_frontier_fig
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.sidebar import catalogue
from perfsim.dashboard.views.common import chart, csv_button, ready
from perfsim.explore.report import DEFAULT_HARDWARE, DEFAULT_MODELS

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
    """The frontier frame for reading (units in the cells), front members first."""
    kind = provenance.accuracy_kind(frame)
    out = pd.DataFrame({
        "design": frame["design"], "device": frame["hardware"], "on front": frame["on_front"],
        "accuracy (%)": frame["accuracy"].round(1), "accuracy is": kind,
        "accuracy source": frame["accuracy_source"], "params": frame["params"].map(fmt.params),
        "active": frame["active_params"].map(fmt.params), "TTFT": frame["ttft_s"].map(fmt.duration),
        "TPOT": frame["tpot_s"].map(fmt.duration), "end-to-end": frame["e2e_s"].map(fmt.duration),
        "throughput": frame["tokens_per_s"].map(fmt.tok_s), "max batch": frame["max_batch"],
        "fits": frame["fits"], "_e2e": frame["e2e_s"]})
    out = out.sort_values(["device", "on front", "_e2e"], ascending=[True, False, True])
    return out.drop(columns="_e2e")


def choices(setup: ReadySetup, state: Mapping) -> tuple[list, list, str, list[str]]:
    """(designs, devices, latency column, notes) from the tab's control values in `state`."""
    models = catalogue("models")
    picked = state.get("fr_designs", [m for m in DEFAULT_MODELS if m in models])
    others = state.get("fr_devices", default_devices(setup))
    latency = state.get("fr_latency", "e2e_s")
    designs = [setup.model] + [m for m in picked if m != setup.model.id]
    hardware, notes = [setup.hardware], []
    for device in (perfsim.load_hardware(h) for h in others if h != setup.hardware.id):
        problem = supports(device, setup.model)
        if problem:  # e.g. fp8 activations on a device without fp8 tensor cores
            notes.append(f"{device.id} left out: {problem}")
        else:
            hardware.append(device)
    return designs, hardware, latency, notes


def default_devices(setup: ReadySetup) -> list[str]:
    devices = catalogue("hwprofiles")
    return [h for h in DEFAULT_HARDWARE if h in devices and h != setup.hardware.id]


def export(setup: ReadySetup, state: Mapping) -> dict:
    """The tab's table for the JSON export (SI units, every column the library returned)."""
    designs, hardware, latency, _ = choices(setup, state)
    frame = fronts(runs.frontier(setup, designs, hardware), latency)
    frame = frame.assign(accuracy_kind=provenance.accuracy_kind(frame))
    return {"latency": latency, "benchmark": provenance.benchmark(frame),
            "rows": frame.to_dict(orient="records")}


def render(setup: Setup, base: ReadySetup | None = None) -> None:
    """The what-if among other designs on several devices: who is on the latency-accuracy front."""
    if not ready(setup):
        return
    c1, c2, c3 = st.columns([5, 4, 3])
    tabstate.multiselect(c1, "Designs (the sidebar's model is always included)", catalogue("models"),
                         "fr_designs", [m for m in DEFAULT_MODELS if m in catalogue("models")])
    tabstate.multiselect(c2, "Devices (besides the sidebar's)", catalogue("hwprofiles"), "fr_devices",
                         default_devices(setup))
    tabstate.select(c3, "Latency", list(LATENCIES), "fr_latency", "e2e_s",
                    format_func=lambda k: LATENCIES[k][0])
    designs, hardware, latency, notes = choices(setup, st.session_state)
    for note in notes:
        st.warning(note)
    baseline = None
    if base is not None and base.model.id != setup.model.id and base.hardware.id == setup.hardware.id:
        designs.append(base.model)
        baseline = base.model.id
    try:
        frame = runs.frontier(setup, designs, hardware)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return
    frame = fronts(frame, latency)
    x_title, scale = LATENCIES[latency]
    bench = provenance.benchmark(frame)
    title = (f"Latency vs accuracy: batch {setup.batch}, prompt {setup.prompt_len:,} → output "
             f"{setup.output_len:,}, {setup.decoding.describe()}")
    chart(make_frontier_fig(frame, x=latency, x_title=x_title, x_scale=scale, current=setup.model.id,
                            title=title, y_title=f"Accuracy on {bench} (%, higher is better)",
                            kinds=provenance.accuracy_kind(frame), baseline=baseline), "frontier")
    missing = frame[~frame["fits"]]
    unscored = frame[frame["fits"] & frame["accuracy"].isna()]
    parts = [f"Accuracy axis: {bench}. Filled markers are on their device's Pareto front (lower latency, "
             "higher accuracy); circles are measured scores, squares a related model's published score "
             "(proxy), triangles scaling-law estimates; the star "
             "is the sidebar's what-if" + (", the cross the pinned baseline." if baseline else ".")]
    if len(missing):
        parts.append("Not fitting in memory (not drawn): "
                     + ", ".join(f"{r.design} on {r.hardware}" for r in missing.itertuples()) + ".")
    if len(unscored):
        parts.append("No accuracy estimate (not drawn): " + ", ".join(sorted(set(unscored["design"]))) + ".")
    st.caption(" ".join(parts))
    st.dataframe(table(frame), hide_index=True, key="frontier_table")
    csv_button(frame, "perfsim-frontier.csv", "frontier")
