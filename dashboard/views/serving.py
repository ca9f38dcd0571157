"""Serving tab: a short event-driven simulation (continuous batching, paged KV cache) of the
what-if under load: latency percentiles and the running batch over time."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import streamlit as st

import perfsim
from perfsim.dashboard import runs, tabstate
from perfsim.dashboard.figures import make_batch_timeline_fig, make_percentiles_fig
from perfsim.dashboard.fmt import duration, label, per_s, quantity, tok_s
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, csv_button, ready

WORKLOADS = {"poisson": "Poisson arrivals (open loop)", "closed_loop": "Closed loop (fixed concurrency)"}
#: The default arrival rate as a share of what the deployment sustains at its best batch.
DEFAULT_LOAD = 0.5
#: Still queued when the last request arrives, as a share of all requests: arrivals outran service.
OVERLOAD_QUEUE = 0.1


def default_rate(setup: ReadySetup) -> float:
    """Half the deployment's max-batch request rate, rounded to two significant digits (4 req/s
    when nothing fits, so the page can still say why)."""
    capacity = runs.capacity_rps(setup)
    if not math.isfinite(capacity) or capacity <= 0:
        return 4.0
    rate = capacity * DEFAULT_LOAD
    digits = 1 - int(math.floor(math.log10(rate)))
    return max(round(rate, digits), 0.01)


def workload(setup: ReadySetup, state: Mapping):
    """(workload, seed) from the tab's control values in `state` (defaults where unset)."""
    n, prompt, output = int(state.get("srv_requests", 200)), setup.prompt_len, setup.output_len
    seed = int(state.get("srv_seed", 0))
    if state.get("srv_kind", "poisson") == "poisson":
        rate = float(state.get("srv_rate", default_rate(setup)))
        return perfsim.Poisson(rate=rate, num_requests=n, prompt_len=prompt, output_len=output), seed
    return (perfsim.ClosedLoop(concurrency=int(state.get("srv_clients", 16)), num_requests=n,
                               prompt_len=prompt, output_len=output), seed)


def controls(setup: ReadySetup) -> None:
    c1, c2, c3, c4 = st.columns(4)
    kind = tabstate.select(c1, "Workload", list(WORKLOADS), "srv_kind", "poisson",
                           format_func=WORKLOADS.__getitem__)
    if kind == "poisson":
        tabstate.number(c2, "Arrival rate (requests/s)", "srv_rate", default_rate(setup), 0.01, 100_000.0,
                        0.5, help=f"default: {DEFAULT_LOAD:.0%} of what this deployment sustains at its "
                                  "largest batch")
    else:
        tabstate.number(c2, "Concurrent clients", "srv_clients", 16, 1, 4096)
    tabstate.number(c3, "Requests", "srv_requests", 200, 10, 5000, 50,
                    help="kept small so the run takes about a second")
    tabstate.number(c4, "Seed", "srv_seed", 0, 0, 1_000_000)


def export(setup: ReadySetup, state: Mapping) -> dict:
    """The tab's numbers for the JSON export: summary and the batch/queue/KV timeline."""
    load, seed = workload(setup, state)
    result = runs.serving(setup, load, seed)
    return {"workload": load.describe(), "summary": result.summary(),
            "timeline": result.timeseries.to_dict(orient="list")}


def render(setup: Setup) -> None:
    """The what-if under load: latency percentiles and how the running batch evolves."""
    if not ready(setup):
        return
    controls(setup)
    try:
        load, seed = workload(setup, st.session_state)
        result = runs.serving(setup, load, seed)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return
    summary = result.summary()
    cols = st.columns(3) + st.columns(3)
    cols[0].metric("TTFT p50", duration(summary["ttft_p50_s"]))
    cols[1].metric("TPOT p50", duration(summary["tpot_p50_s"]))
    cols[2].metric("Served throughput", tok_s(summary["throughput_tok_s"]))
    cols[3].metric("TTFT p99", duration(summary["ttft_p99_s"]))
    cols[4].metric("TPOT p99", duration(summary["tpot_p99_s"]))
    cols[5].metric("Served requests/s", per_s(summary["requests_per_s"]))
    series = result.timeseries
    rate = getattr(load, "rate", None)
    if rate is not None and len(series):
        arrivals_end = load.num_requests / rate  # when the last request is expected to arrive
        queued = float(series.loc[series["time_s"] <= arrivals_end, "waiting"].iloc[-1])
        if queued >= OVERLOAD_QUEUE * load.num_requests:
            st.warning(f"Overloaded: requests arrive at {per_s(rate)}, faster than this deployment serves "
                       f"them ({per_s(summary['requests_per_s'])} in this run), so the queue grows without "
                       f"bound ({queued:,.0f} waiting when the last request arrives) and latencies grow with "
                       f"the run's length. Lower the arrival rate, or add replicas or tensor parallelism in "
                       f"the sidebar.")
    what = f"{setup.model.id} on {setup.hardware.id} ({setup.deploy.describe()}), {load.describe()}"
    chart(make_percentiles_fig(summary, f"Latency percentiles: {what}"), "serving_percentiles")
    chart(make_batch_timeline_fig(series, f"Running batch, queue and KV cache over time: {what}"),
          "serving_timeline")
    meta = result.meta
    st.caption(f"perfsim.simulate_serving: max {meta['max_num_seqs']:,} running sequences, "
               f"{meta['max_batched_tokens']:,} batched tokens per iteration, "
               f"{meta['kv_blocks']:,} KV blocks of {meta['block_size']} tokens (set in the sidebar's "
               f"Serving engine box); decoding: {meta['decoding']}; {summary['preemptions']:,} preemptions, "
               f"{summary['iterations']:,} iterations. The sidebar's batch is not used here: the engine "
               f"batches continuously up to its max running sequences.")
    with st.expander("Summary (all numbers)"):
        table = pd.DataFrame({"metric": [label(k) for k in summary],
                              "value": [quantity(k, v) for k, v in summary.items()]})
        st.dataframe(table, hide_index=True, key="serving_table")
    csv_button(series, "perfsim-serving-timeline.csv", "serving")
