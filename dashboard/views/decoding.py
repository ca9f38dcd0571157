"""Decoding tab: speed-up over autoregressive decoding versus batch for speculative, block-diffusion
and TiDAR decoding, and the free-token-slot curve that explains it."""

from __future__ import annotations

import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_slots_fig, make_speedup_fig
from perfsim.dashboard.sidebar import Setup
from perfsim.dashboard.views.common import chart, ready
from perfsim.decoding import BlockDiffusion, Speculative, TiDAR

BATCH_OPTIONS = runs.powers_of_two(1, 1024)


def _strategies() -> dict:
    """Page-local parameters of the three families (the sidebar's strategy drives other tabs)."""
    spec, diff, tidar = st.columns(3)
    with spec:
        st.markdown("**Speculative (EAGLE head)**")
        k = st.number_input("Draft length k", 1, 32, 4, key="cmp_spec_k")
        alpha = st.slider("Acceptance per token", 0.0, 1.0, 0.7, 0.05, key="cmp_spec_acc")
    with diff:
        st.markdown("**Block diffusion (block KV cache)**")
        block = st.number_input("Block size", 1, 1024, 32, key="cmp_diff_block")
        sub = st.number_input("Sub-block (queries per forward)", 1, 1024, 8, key="cmp_diff_sub")
        tps = st.number_input("Tokens finalised per step", 1.0, 1024.0, 2.0, 0.5, key="cmp_diff_tps")
    with tidar:
        st.markdown("**TiDAR**")
        draft = st.number_input("Draft length", 1, 128, 16, key="cmp_tidar_draft")
        tpf = st.number_input("Tokens per forward (T/NFE)", 1.0, 129.0, 3.0, 0.25, key="cmp_tidar_tpf")
    made, problems = {}, []
    for name, build in (
        (f"speculative (k={k}, α={alpha:.2f})",
         lambda: Speculative(k=int(k), acceptance=alpha, draft="eagle")),
        (f"block diffusion ({block}/{sub}, {tps:g} tok/step)",
         lambda: BlockDiffusion(block_size=int(block), sub_block_size=int(sub), tokens_per_step=tps)),
        (f"TiDAR (draft {draft}, {tpf:g} T/NFE)",
         lambda: TiDAR(draft_len=int(draft), tokens_per_forward=tpf)),
    ):
        try:
            made[name] = build()
        except perfsim.PerfsimInputError as exc:
            problems.append(f"{name.split(' (')[0]}: {exc}")
    for problem in problems:
        st.error(problem)
    return made


def render(setup: Setup) -> None:
    """Compare the three non-autoregressive families across batch sizes for the what-if."""
    if not ready(setup):
        return
    strategies = _strategies()
    lo, hi = st.select_slider("Batch range (sequences)", options=BATCH_OPTIONS, value=(1, 256),
                              key="cmp_batches")
    batches = runs.powers_of_two(lo, hi)
    frame = runs.speedups(setup, strategies, batches)
    if frame.empty:
        st.error(f"No batch in {lo}..{hi} fits {setup.model.id} on {setup.hardware.id} at prompt "
                 f"{setup.prompt_len:,} + output {setup.output_len:,} tokens.")
    else:
        title = (f"Decoding speed-up over autoregressive: {setup.model.id} on {setup.hardware.id}, "
                 f"prompt {setup.prompt_len:,}, output {setup.output_len:,}")
        chart(make_speedup_fig(frame, title), "decoding_speedup")
        missing = sorted(set(batches) - set(frame["batch"]))
        st.caption("Speed-up = end-to-end latency of autoregressive decoding / of the strategy, both from "
                   "perfsim.generate." + (f" Batches {missing} do not fit in memory." if missing else ""))
    slots = runs.slots(setup)
    knee = int(slots.attrs.get("knee_slots", 0))
    chart(make_slots_fig(slots, knee, f"Free token slots: one forward of {setup.model.id} on "
                                      f"{setup.hardware.id}, batch {setup.batch}, context "
                                      f"{setup.prompt_len:,}"), "decoding_slots")
    st.caption(f"Extra query tokens per sequence are almost free up to about {knee} per forward at this "
               "batch: the head-room speculative, diffusion and TiDAR decoding spend on drafts.")
