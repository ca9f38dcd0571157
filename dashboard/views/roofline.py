"""Roofline tab: every kernel of the prefill and decode forwards on the device's roofline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.edits import compute_dtype
from perfsim.dashboard.figures import make_roofline_fig
from perfsim.dashboard.setup import Setup
from perfsim.dashboard.views.common import chart, ready


def kernel_points(result: perfsim.RequestResult) -> pd.DataFrame:
    """Breakdown rows of both forwards that do arithmetic (FLOPs and bytes both > 0)."""
    frames = []
    for phase, step in (("prefill", result.prefill), ("decode", result.decode)):
        frames.append(step.breakdown.assign(phase=phase))
    rows = pd.concat(frames, ignore_index=True)
    return rows[(rows["flops"] > 0) & (rows["bytes"] > 0)].reset_index(drop=True)


def render(setup: Setup) -> None:
    """Each kernel against the device's roofs: how far from memory- or compute-bound it runs."""
    if not ready(setup):
        return
    result = runs.request(setup, check_memory=False)
    if not runs.memory(setup).fits:
        st.warning("This what-if does not fit in memory (see the message above); the roofline shows "
                   "where its kernels would land if it did.")
    hw = setup.hardware
    dtype = compute_dtype(setup.model)
    peak = hw.peak_flops(dtype)  # the sidebar refuses devices without this dtype's peak
    points = kernel_points(result)
    title = (f"Roofline: {setup.model.id} on {hw.id} ({dtype}), batch {setup.batch}, "
             f"prompt {setup.prompt_len:,}")
    chart(make_roofline_fig(points, peak, hw.memory.peak_bw_bytes_per_s, title), "roofline")
    skipped = pd.concat([result.prefill.breakdown, result.decode.breakdown])
    skipped = skipped[skipped["flops"] <= 0]
    st.caption(f"Circles: prefill forward (TTFT); diamonds: one decode forward at the mean context. "
               f"Points sit below the roofs by the kernel's efficiency and fixed costs. "
               f"{len(skipped)} kernel kinds without FLOPs (norms, RoPE, activations, sampling) are "
               f"memory or launch bound and not drawn; see the Breakdown tab.")
