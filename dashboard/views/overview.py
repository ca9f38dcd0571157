"""Headline metrics (shown above the tabs) and the Overview tab: request metrics and memory fit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_memory_fig
from perfsim.dashboard.fmt import gb, ms, params, per_s, secs, tok_s
from perfsim.dashboard.sidebar import Setup, is_ready
from perfsim.dashboard.views.common import chart, ready


def headline(setup: Setup) -> perfsim.RequestResult | None:
    """TTFT, TPOT, throughput and memory for the what-if, or the library's sentence saying why
    there is none (e.g. it does not fit: the sentence carries the memory numbers)."""
    if not is_ready(setup):
        st.warning("Some inputs need attention (marked in the sidebar): "
                   + " ".join(setup.errors.values()))
        return None
    try:
        result = runs.request(setup)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return None
    report = result.memory
    cols = st.columns(4)
    cols[0].metric("TTFT", ms(result.ttft_s), help="time to first token: the prefill forward")
    cols[1].metric("TPOT", ms(result.tpot_s), help="time per output token after the first")
    cols[2].metric("Throughput", tok_s(result.tokens_per_s),
                   help="generated tokens per second of the whole batch")
    cols[3].metric(f"Memory (of {gb(report.usable_bytes)})", gb(report.total_bytes),
                   help="weights, KV cache, state, activations and runtime reserve, per GPU")
    return result


def render(setup: Setup, result: perfsim.RequestResult | None) -> None:
    """Request-level numbers beyond the headline, and what fills the device's memory."""
    if not ready(setup):
        return
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
    chart(make_memory_fig(parts, report.usable_bytes,
                          f"Memory fit: {setup.model.id} on {setup.hardware.id}, batch {setup.batch}, "
                          f"context {runs.context_len(setup):,}"), "overview_memory")
    if result is not None:
        table = pd.DataFrame({"quantity": list(result.to_dict()), "value": [str(v) for v in
                                                                           result.to_dict().values()]})
        with st.expander("All numbers (perfsim.generate)"):
            st.dataframe(table, hide_index=True, key="overview_table")
