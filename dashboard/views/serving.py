"""Serving tab: a short event-driven simulation (continuous batching, paged KV cache) of the
what-if under load: latency percentiles and the running batch over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_batch_timeline_fig, make_percentiles_fig
from perfsim.dashboard.fmt import ms, per_s, tok_s
from perfsim.dashboard.sidebar import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, ready

WORKLOADS = {"poisson": "Poisson arrivals (open loop)", "closed_loop": "Closed loop (fixed concurrency)"}


def workload(setup: ReadySetup):
    """The workload the page's controls describe, at the sidebar's prompt and output lengths."""
    c1, c2, c3, c4 = st.columns(4)
    kind = c1.selectbox("Workload", list(WORKLOADS), format_func=WORKLOADS.__getitem__, key="srv_kind")
    if kind == "poisson":
        rate = c2.number_input("Arrival rate (requests/s)", 0.01, 10_000.0, 4.0, 0.5, key="srv_rate")
    else:
        clients = c2.number_input("Concurrent clients", 1, 4096, 16, key="srv_clients")
    count = c3.number_input("Requests", 10, 5000, 200, 50, key="srv_requests",
                            help="kept small so the run takes about a second")
    seed = c4.number_input("Seed", 0, 1_000_000, 0, key="srv_seed")
    n, prompt, output = int(count), setup.prompt_len, setup.output_len
    if kind == "poisson":
        return perfsim.Poisson(rate=rate, num_requests=n, prompt_len=prompt, output_len=output), int(seed)
    return (perfsim.ClosedLoop(concurrency=int(clients), num_requests=n, prompt_len=prompt,
                               output_len=output), int(seed))


def render(setup: Setup) -> None:
    """The what-if under load: latency percentiles and how the running batch evolves."""
    if not ready(setup):
        return
    try:
        load, seed = workload(setup)
        result = runs.serving(setup, load, seed)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return
    summary = result.summary()
    cols = st.columns(3) + st.columns(3)
    cols[0].metric("TTFT p50", ms(summary["ttft_p50_s"]))
    cols[1].metric("TPOT p50", ms(summary["tpot_p50_s"]))
    cols[2].metric("Served throughput", tok_s(summary["throughput_tok_s"]))
    cols[3].metric("TTFT p99", ms(summary["ttft_p99_s"]))
    cols[4].metric("TPOT p99", ms(summary["tpot_p99_s"]))
    cols[5].metric("Served requests/s", per_s(summary["requests_per_s"]))
    what = f"{setup.model.id} on {setup.hardware.id}, {load.describe()}"
    chart(make_percentiles_fig(summary, f"Latency percentiles: {what}"), "serving_percentiles")
    chart(make_batch_timeline_fig(result.timeseries, f"Running batch, queue and KV cache over time: {what}"),
          "serving_timeline")
    meta = result.meta
    st.caption(f"perfsim.simulate_serving with vLLM-style defaults: max {meta['max_num_seqs']} sequences, "
               f"{meta['max_batched_tokens']:,} batched tokens per iteration, chunked prefill, "
               f"{meta['kv_blocks']:,} KV blocks of {meta['block_size']} tokens; "
               f"decoding: {meta['decoding']}; "
               f"{summary['preemptions']} preemptions, {summary['iterations']:,} iterations.")
    with st.expander("Summary (all numbers)"):
        shown = [f"{v:.6g}" if isinstance(v, float) else str(v) for v in summary.values()]
        st.dataframe(pd.DataFrame({"metric": list(summary), "value": shown}), hide_index=True,
                     key="serving_table")
