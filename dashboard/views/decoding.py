"""Decoding tab: speed-up over autoregressive decoding versus batch for speculative, block-diffusion
and TiDAR decoding (and the sidebar's own strategy), and the free-token-slot curve that explains it."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

import perfsim
from perfsim.dashboard import runs, tabstate
from perfsim.dashboard.figures import make_slots_fig, make_speedup_fig
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, csv_button, ready
from perfsim.decoding import BlockDiffusion, DecodingStrategy, Speculative, TiDAR

BATCH_OPTIONS = runs.powers_of_two(1, 1024)
SIDEBAR = "sidebar: "


def controls() -> None:
    """Page-local parameters of the three families (the sidebar's strategy is drawn as well)."""
    spec, diff, tidar = st.columns(3)
    spec.markdown("**Speculative (EAGLE head)**")
    tabstate.number(spec, "Draft length k", "cmp_spec_k", 4, 1, 32)
    tabstate.slider(spec, "Acceptance per token", "cmp_spec_acc", 0.7, 0.0, 1.0, 0.05)
    diff.markdown("**Block diffusion (block KV cache)**")
    tabstate.number(diff, "Block size", "cmp_diff_block", 32, 1, 1024)
    tabstate.number(diff, "Sub-block (queries per forward)", "cmp_diff_sub", 8, 1, 1024)
    tabstate.number(diff, "Tokens finalised per step", "cmp_diff_tps", 2.0, 1.0, 1024.0, 0.5)
    tidar.markdown("**TiDAR**")
    tabstate.number(tidar, "Draft length", "cmp_tidar_draft", 16, 1, 128)
    tabstate.number(tidar, "Tokens per forward (T/NFE)", "cmp_tidar_tpf", 3.0, 1.0, 129.0, 0.25)
    tabstate.range_slider(st, "Batch range (sequences)", BATCH_OPTIONS, "cmp_batches", (1, 256))


def strategies(setup: ReadySetup, state: Mapping) -> tuple[dict[str, DecodingStrategy], list[str]]:
    """The strategies to draw (the three families and the sidebar's, unless autoregressive) and a
    sentence per family whose parameters are invalid."""
    k, alpha = int(state.get("cmp_spec_k", 4)), float(state.get("cmp_spec_acc", 0.7))
    block, sub = int(state.get("cmp_diff_block", 32)), int(state.get("cmp_diff_sub", 8))
    tps = float(state.get("cmp_diff_tps", 2.0))
    draft, tpf = int(state.get("cmp_tidar_draft", 16)), float(state.get("cmp_tidar_tpf", 3.0))
    made: dict[str, DecodingStrategy] = {}
    problems: list[str] = []
    for name, build in (
        (f"speculative (k={k}, α={alpha:.2f})", lambda: Speculative(k=k, acceptance=alpha, draft="eagle")),
        (f"block diffusion ({block}/{sub}, {tps:g} tok/step)",
         lambda: BlockDiffusion(block_size=block, sub_block_size=sub, tokens_per_step=tps)),
        (f"TiDAR (draft {draft}, {tpf:g} T/NFE)", lambda: TiDAR(draft_len=draft, tokens_per_forward=tpf)),
    ):
        try:
            made[name] = build()
        except perfsim.PerfsimInputError as exc:
            problems.append(f"{name.split(' (')[0]}: {exc}")
    if setup.decoding.name != "autoregressive":
        made[SIDEBAR + setup.decoding.describe()] = setup.decoding
    return made, problems


def export(setup: ReadySetup, state: Mapping) -> dict:
    """The tab's speed-up table for the JSON export."""
    made, _ = strategies(setup, state)
    lo, hi = state.get("cmp_batches", (1, 256))
    return {"speedups": runs.speedups(setup, made, runs.powers_of_two(lo, hi)).to_dict(orient="records")}


def render(setup: Setup) -> None:
    """Compare the non-autoregressive families across batch sizes for the what-if."""
    if not ready(setup):
        return
    controls()
    made, problems = strategies(setup, st.session_state)
    for problem in problems:
        st.error(problem)
    lo, hi = st.session_state.get("cmp_batches", (1, 256))
    batches = runs.powers_of_two(lo, hi)
    frame = runs.speedups(setup, made, batches)
    if frame.empty:
        st.error(f"No batch in {lo}..{hi} fits {setup.model.id} on {setup.hardware.id} at prompt "
                 f"{setup.prompt_len:,} + output {setup.output_len:,} tokens.")
    else:
        title = (f"Decoding speed-up over autoregressive: {setup.model.id} on {setup.hardware.id}, "
                 f"prompt {setup.prompt_len:,}, output {setup.output_len:,}")
        chart(make_speedup_fig(frame, title, marked_batch=setup.batch), "decoding_speedup")
        missing = sorted(set(batches) - set(frame["batch"]))
        st.caption("Speed-up = end-to-end latency of autoregressive decoding / of the strategy, both from "
                   "perfsim.generate; the dotted line marks the sidebar's batch"
                   + (", and the sidebar's strategy is drawn too" if setup.decoding.name != "autoregressive"
                      else "") + "." + (f" Batches {missing} do not fit in memory." if missing else ""))
        csv_button(frame, "perfsim-decoding-speedups.csv", "decoding")
    slots = runs.slots(setup)
    knee = int(slots.attrs.get("knee_slots", 0))
    chart(make_slots_fig(slots, knee, f"Free token slots: one forward of {setup.model.id} on "
                                      f"{setup.hardware.id}, batch {setup.batch}, context "
                                      f"{setup.prompt_len:,}"), "decoding_slots")
    st.caption(f"Extra query tokens per sequence are almost free up to about {knee} per forward at this "
               "batch: the head-room speculative, diffusion and TiDAR decoding spend on drafts. Past it the "
               "forward turns compute-bound and every drafted token costs time: TiDAR, which drafts and "
               "verifies draft-length tokens per sequence in every forward, then falls far below 1× at "
               "large batches even though it still finalises several tokens per forward.")
