"""Headline metrics (shown above the tabs, with deltas against a pinned baseline), provenance
badges, and the Overview tab: request metrics, memory fit and `perfsim compare`'s table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import provenance, runs
from perfsim.dashboard.fmt import gb, headline_time, label, params, per_s, quantity, secs, tok_s
from perfsim.dashboard.memory_bar import memory_bar_html
from perfsim.dashboard.setup import ReadySetup, Setup, is_ready
from perfsim.dashboard.views.common import csv_button, fields_to_fix, ready

#: Headline metric -> (result attribute, formatter, higher is better).
HEADLINE = {"TTFT": ("ttft_s", headline_time, False), "TPOT": ("tpot_s", headline_time, False),
            "Throughput": ("tokens_per_s", tok_s, True)}


def _delta(value: float, base: float) -> str:
    """'+12.3 %' style change of value against base (what st.metric colours)."""
    return f"{(value / base - 1) * 100:+,.1f} % vs baseline" if base else "—"


def headline(setup: Setup, base: ReadySetup | None = None) -> perfsim.RequestResult | None:
    """TTFT, TPOT, throughput and memory for the what-if (with deltas against `base`), or the
    library's sentence saying why there is none (e.g. it does not fit: the sentence carries the
    memory numbers)."""
    if not is_ready(setup):
        st.warning(f"Some inputs need attention: {fields_to_fix(setup)} (marked in the sidebar).")
        return None
    try:
        result = runs.request(setup)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return None
    reference = None
    if base is not None:
        try:
            reference = runs.request(base)
        except perfsim.PerfsimInputError as exc:
            st.warning(f"Baseline: {exc}")
    report = result.memory
    cols = st.columns(4)
    helps = {"TTFT": "time to first token: the prefill forward", "TPOT": "time per output token after the "
             "first", "Throughput": "generated tokens per second of the whole batch"}
    for col, (name, (attr, fmt, higher)) in zip(cols, HEADLINE.items(), strict=False):
        value = getattr(result, attr)
        delta = _delta(value, getattr(reference, attr)) if reference is not None else None
        col.metric(name, fmt(value), delta=delta, delta_color="normal" if higher else "inverse",
                   help=helps[name])
    delta = _delta(report.total_bytes, reference.memory.total_bytes) if reference is not None else None
    cols[3].metric(f"Memory (of {gb(report.usable_bytes)})", gb(report.total_bytes), delta=delta,
                   delta_color="inverse",
                   help="weights, KV cache, state, activations and runtime reserve, per GPU")
    badges = (provenance.device_badge(setup.hardware, setup.runtime.id if setup.runtime else None),
              provenance.runtime_badge(setup.runtime, setup.hardware),
              f":gray-badge[perfsim {perfsim.__version__}]")
    st.markdown(" · ".join(badges))
    return result


def compare_table(base: ReadySetup, setup: ReadySetup) -> None:
    """`perfsim compare BASE VARIANT` for the two models (same numbers as the command line)."""
    if base.model == setup.model:
        st.caption("Baseline and variant share the model; the deltas above come from the other inputs.")
        return
    try:
        frame = runs.compare(base, setup)
    except perfsim.PerfsimInputError as exc:
        st.warning(f"perfsim compare: {exc}")
        return
    st.subheader("What the model change buys (perfsim compare)")
    st.caption(f"`perfsim compare {base.model.id} {setup.model.id} --hardware {setup.hardware.id} --workload "
               f"{setup.prompt_len}/{setup.output_len} --tp {setup.execution.tensor_parallel}"
               + (f" --ep {setup.execution.expert_parallel}" if setup.execution.expert_parallel > 1 else "")
               + (f" --runtime {setup.runtime.id}" if setup.runtime else "")
               + "` (gain > 1: the variant is better)")
    shown = frame.copy()
    for column in shown.columns[2:]:
        shown[column] = shown[column].map(lambda v: f"{v:,.4g}")
    st.dataframe(shown, hide_index=True, key="compare_table")
    csv_button(frame, "perfsim-compare.csv", "compare")


def render(setup: Setup, result: perfsim.RequestResult | None, base: ReadySetup | None = None) -> None:
    """Request-level numbers beyond the headline, and what fills the device's memory."""
    if not ready(setup):
        return
    if base is not None:
        compare_table(base, setup)
    report = runs.memory(setup)
    if result is not None:
        cols = st.columns(3)
        cols[0].metric("End-to-end latency", secs(result.e2e_s),
                       help="TTFT + (output tokens - 1) x TPOT")
        cols[1].metric("Requests/s", per_s(result.requests_per_s), help="batch / end-to-end latency")
        cols[2].metric("Tokens per iteration", f"{result.tokens_per_iteration:.2f}",
                       help=f"decoding: {result.decoding}")
    counts = perfsim.model_params(setup.model)
    sizes = st.columns(5)
    sizes[0].metric("Parameters", params(counts.total))
    sizes[1].metric("Active parameters", params(counts.active), help="per token (MoE: top-k experts)")
    sizes[2].metric("KV cache per token", f"{report.kv_bytes_per_token / 1024:,.1f} KiB")
    sizes[3].metric("Max batch at this context", f"{report.max_batch:,}")
    sizes[4].metric("Max context at this batch", f"{report.max_context_len:,}")
    if report.fits:  # when it does not fit, the headline above already carries the sentence
        st.success(report.explain(setup.model.id, setup.hardware.id, setup.batch,
                                  setup.prompt_len + setup.output_len))
    parts = runs.memory_parts(setup, report)
    st.html(memory_bar_html(parts, report.usable_bytes,
                            f"Memory fit: {setup.model.id} on {setup.hardware.id}, batch {setup.batch}, "
                            f"context {runs.context_len(setup):,}"))
    if result is not None:
        numbers = {k: v for k, v in result.to_dict().items()}
        table = pd.DataFrame({"quantity": [label(k) for k in numbers],
                              "value": [quantity(k, v) for k, v in numbers.items()]})
        with st.expander("All numbers (perfsim.generate)"):
            st.dataframe(table, hide_index=True, key="overview_table")
        csv_button(pd.DataFrame([numbers]), "perfsim-request.csv", "overview")
