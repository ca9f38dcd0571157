"""AppTest: every tab with its default inputs and with changed inputs shows the library's numbers
(charts are compared through their plotly specs, metrics through their text)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import perfsim
from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.runtime import resolve_execution
from perfsim.dashboard.deploy import DEFAULT_RUNTIME
from perfsim.dashboard.edits import with_depth, with_width
from perfsim.dashboard.fmt import duration
from perfsim.decoding import BlockDiffusion, Speculative, TiDAR

pytestmark = pytest.mark.dashboard

QWEN, H100 = "qwen3-8b", "h100-sxm"


def _trace(spec: dict, name: str) -> dict:
    found = [t for t in spec["data"] if t.get("name") == name]
    assert len(found) == 1, [t.get("name") for t in spec["data"]]
    return found[0]


def _points(ui, spec: dict, hw: str, axis: str) -> list[float]:
    """A device's design points on the frontier chart (on-front and dominated traces)."""
    traces = [t for t in spec["data"] if t.get("name") in (hw, f"{hw} (dominated)")]
    return [float(v) for t in traces for v in ui.values(t[axis])]


# --- Roofline ------------------------------------------------------------------------------
@pytest.mark.parametrize("query, dtype", [
    ({}, "bf16"), ({"w_dtype": "fp8", "a_dtype": "fp8", "batch": "16"}, "fp8")])
def test_roofline_points_are_the_librarys_kernels(app, ui, query, dtype):
    app.query_params.update(query)
    at = ui.run(app, tab="Roofline")
    base = perfsim.load_model(QWEN)
    dtypes = base.dtypes.model_copy(update={"weights": dtype, "activations": dtype})
    model = base.model_copy(update={"dtypes": dtypes})
    result = perfsim.generate(model, H100, int(query.get("batch", 1)), 1024, 256)
    spec = ui.chart(at, "Roofline")
    hw = perfsim.load_hardware(H100)
    assert ui.values(_trace(spec, f"compute roof ({hw.peak_flops(dtype) / 1e12:,.0f} TFLOP/s)")["y"])[0] == \
        pytest.approx(hw.peak_flops(dtype) / 1e12)
    rows = result.decode.breakdown.query("family == 'gemm' and flops > 0")
    points = _trace(spec, "decode · gemm")
    assert ui.values(points["x"]).astype(float) == pytest.approx((rows.flops / rows.bytes).to_numpy())
    assert ui.values(points["y"]).astype(float) == pytest.approx((rows.flops / rows.time_s / 1e12).to_numpy())


# --- Breakdown -----------------------------------------------------------------------------
@pytest.mark.parametrize("query", [{}, {"model": "nemotron-h-8b", "batch": "32", "prompt": "2048"}])
def test_breakdown_bars_add_up_to_the_step_latencies(app, ui, query):
    app.query_params.update(query)
    at = ui.run(app, tab="Breakdown")
    result = perfsim.generate(query.get("model", QWEN), H100, int(query.get("batch", 1)),
                              int(query.get("prompt", 1024)), 256)
    spec = ui.chart(at, "Latency by operator family")
    totals = np.sum([ui.values(t["y"]).astype(float) for t in spec["data"]], axis=0)
    assert totals == pytest.approx([result.prefill.latency_s * 1e3, result.decode.latency_s * 1e3])
    traffic = ui.chart(at, "Memory traffic by operator family")
    moved = np.sum([ui.values(t["y"]).astype(float) for t in traffic["data"]], axis=0)
    assert moved == pytest.approx([result.prefill.bytes / 1e9, result.decode.bytes / 1e9])
    table = at.dataframe[0].value
    assert len(table) == len(result.prefill.breakdown) + len(result.decode.breakdown)


# --- Frontier ------------------------------------------------------------------------------
def test_frontier_default_shows_each_device_with_the_librarys_points(app, ui):
    at = ui.run(app, tab="Frontier")
    designs = [QWEN] + [m for m in perfsim.explore.report.DEFAULT_MODELS if m != QWEN]
    devices = [H100, "a10g", "jetson-agx-orin-64gb"]
    frame = perfsim.evaluate_frontier(designs, devices, batch=1, prompt_len=1024, output_len=256)
    spec = ui.chart(at, "Latency vs accuracy")
    for hw in devices:
        rows = frame[(frame.hardware == hw) & frame.fits]
        xs = _points(ui, spec, hw, "x")
        assert sorted(xs) == pytest.approx(sorted(rows.e2e_s))
        assert sorted(_points(ui, spec, hw, "y")) == pytest.approx(sorted(rows.accuracy))
        front = rows[rows.on_front].sort_values("e2e_s")
        line = ui.values(_trace(spec, f"{hw} Pareto front")["x"]).astype(float)
        assert list(line) == pytest.approx(list(front.e2e_s))
    star = [t for t in spec["data"] if t.get("marker", {}).get("symbol") == "star"]
    assert len(star) == len(devices)
    hover = " ".join(str(v) for t in spec["data"] if t.get("name", "").startswith(H100) and "customdata" in t
                     for v in np.ravel(ui.values(t["customdata"])))
    assert "llama-3.1-8b" in hover  # hover names the design


def test_frontier_follows_batch_devices_and_latency_choice(app, ui):
    app.query_params.update({"batch": "4", "model": "qwen3-1.7b"})
    at = ui.run(app, tab="Frontier")
    at.multiselect(key="fr_designs").set_value(["qwen3-8b", "llama-3.1-8b"]).run()
    at.multiselect(key="fr_devices").set_value(["a10g"]).run()
    at = ui.run(at.selectbox(key="fr_latency").select("tpot_s"))
    frame = perfsim.evaluate_frontier(["qwen3-1.7b", "qwen3-8b", "llama-3.1-8b"], [H100, "a10g"], batch=4,
                                      prompt_len=1024, output_len=256)
    spec = ui.chart(at, "Latency vs accuracy: batch 4")
    assert spec["layout"]["xaxis"]["title"]["text"] == "TPOT (ms), log scale"
    for hw in (H100, "a10g"):
        rows = frame[frame.hardware == hw]
        assert sorted(_points(ui, spec, hw, "x")) == pytest.approx(sorted(rows.tpot_s * 1e3))
        mask = perfsim.pareto_mask(rows, {"tpot_s": "min", "accuracy": "max"})
        front = rows[mask].sort_values("tpot_s")
        assert list(ui.values(_trace(spec, f"{hw} Pareto front")["x"]).astype(float)) == \
            pytest.approx(list(front.tpot_s * 1e3))


# --- Sweep ---------------------------------------------------------------------------------
def test_sweep_default_heatmap_is_evaluate_grid(app, ui):
    at = ui.run(app, tab="Sweep")
    batches, contexts = [2**i for i in range(9)], [2**i for i in range(9, 16)]
    grid = perfsim.evaluate_grid([QWEN], [H100], batches, contexts)
    spec = ui.chart(at, "Decode step latency (ms) over batch × context")
    z = ui.values(spec["data"][0]["z"]).astype(float)
    expected = grid.pivot(index="batch", columns="context_len", values="latency_s") * 1e3
    fits = grid.pivot(index="batch", columns="context_len", values="fits").to_numpy()
    assert np.isnan(z[~fits]).all()
    assert z[fits] == pytest.approx(expected.to_numpy()[fits])


def test_sweep_depth_by_width_memory(app, ui):
    at = ui.run(app, tab="Sweep")
    at.radio(key="sweep_axes").set_value("depth_width").run()
    at = ui.run(at.selectbox(key="sweep_metric").select("Memory (GB)"))
    model = perfsim.load_model(QWEN)
    depths, widths = [18, 27, 36, 45, 54], [2048, 3072, 4096, 5120, 6144]
    models = [with_width(with_depth(model, d), w) for d in depths for w in widths]
    grid = perfsim.evaluate_grid(models, [H100], [1], [1024 + 128])
    spec = ui.chart(at, "Memory (GB) over depth × width")
    assert list(spec["data"][0]["y"]) == [str(d) for d in depths]
    assert list(spec["data"][0]["x"]) == [str(w) for w in widths]
    z = ui.values(spec["data"][0]["z"]).astype(float)
    assert z.ravel() == pytest.approx(grid.memory_bytes.to_numpy() / 1e9)


# --- Decoding ------------------------------------------------------------------------------
def _speedup(strategy, batch: int, model=QWEN) -> float:
    return (perfsim.generate(model, H100, batch, 1024, 256).e2e_s
            / perfsim.generate(model, H100, batch, 1024, 256, strategy).e2e_s)


@pytest.mark.parametrize("k", [4, 2])
def test_decoding_speedups_are_the_librarys(app, ui, k):
    at = ui.run(app, tab="Decoding")
    if k != 4:
        at = ui.run(at.number_input(key="cmp_spec_k").set_value(k))
    spec = ui.chart(at, "Decoding speed-up over autoregressive")
    strategies = {f"speculative (k={k}, α=0.70)": Speculative(k=k, acceptance=0.7, draft="eagle"),
                  "block diffusion (32/8, 2 tok/step)": BlockDiffusion(32, 8, tokens_per_step=2.0),
                  "TiDAR (draft 16, 3 T/NFE)": TiDAR(draft_len=16, tokens_per_forward=3.0)}
    for name, strategy in strategies.items():
        trace = _trace(spec, name)
        xs, ys = ui.values(trace["x"]).astype(int), ui.values(trace["y"]).astype(float)
        for batch, value in [(xs[0], ys[0]), (xs[-1], ys[-1])]:
            assert value == pytest.approx(_speedup(strategy, int(batch)))
    hw = perfsim.load_hardware(H100)
    execution = resolve_execution(DEFAULT_RUNTIME, hw) if DEFAULT_RUNTIME != "none" else None
    slots = perfsim.decoding.free_token_slots(QWEN, hw, 1024, execution=execution)
    curve = ui.chart(at, "Free token slots")["data"][0]
    assert ui.values(curve["y"]).astype(float) == pytest.approx(slots.latency_s.to_numpy() * 1e3)


# --- Serving -------------------------------------------------------------------------------
def test_serving_default_matches_simulate_serving(app, ui):
    """The default arrival rate is half the device's max-batch request rate (not a fixed 4/s)."""
    at = ui.run(app, tab="Serving")
    peak = max_batch_throughput(perfsim.load_model(QWEN), perfsim.load_hardware(H100), 1024, 256,
                                powers_of_two=True).result.requests_per_s
    rate = at.number_input(key="srv_rate").value
    assert rate == pytest.approx(peak / 2, rel=0.05)
    load = perfsim.Poisson(rate=rate, num_requests=200, prompt_len=1024, output_len=256)
    result = perfsim.simulate_serving(QWEN, H100, load, seed=0)
    summary = result.summary()
    assert ui.metric(at, "TTFT p50") == duration(summary["ttft_p50_s"])
    assert ui.metric(at, "TPOT p99") == duration(summary["tpot_p99_s"])
    assert ui.metric(at, "Served throughput") == f"{summary['throughput_tok_s']:,.0f} tok/s"
    running = _trace(ui.chart(at, "Running batch, queue and KV cache"), "running (batch size)")
    assert ui.values(running["y"]).astype(float) == pytest.approx(result.timeseries.running.to_numpy())


def test_serving_closed_loop_with_speculative_decoding(app, ui):
    app.query_params.update({"decoding": "speculative", "model": "qwen3-1.7b"})
    at = ui.run(app, tab="Serving")
    at.selectbox(key="srv_kind").select("closed_loop").run()
    at = ui.run(at.number_input(key="srv_clients").set_value(8))
    load = perfsim.ClosedLoop(concurrency=8, num_requests=200, prompt_len=1024, output_len=256)
    summary = perfsim.simulate_serving("qwen3-1.7b", H100, load, decoding=Speculative(k=4, acceptance=0.7),
                                       seed=0).summary()
    assert ui.metric(at, "TTFT p99") == duration(summary["ttft_p99_s"])
    spec = ui.chart(at, "Latency percentiles")
    assert ui.values(spec["data"][1]["y"]).astype(float)[1] == pytest.approx(summary["tpot_p50_s"] * 1e3)


def test_serving_shows_the_librarys_sentence_when_no_kv_cache_fits(app, ui):
    app.query_params.update({"hw": "jetson-orin-nano-8gb"})
    at = ui.run(app, tab="Serving")
    with pytest.raises(perfsim.PerfsimInputError) as exc:
        load = perfsim.Poisson(rate=4.0, num_requests=200, prompt_len=1024, output_len=256)
        perfsim.simulate_serving(QWEN, "jetson-orin-nano-8gb", load)
    assert str(exc.value) in [e.value for e in at.main.error]
    assert not ui.charts(at)


# --- RL rollouts ---------------------------------------------------------------------------
def _rollout_config(**changes) -> perfsim.RolloutConfig:
    fields = dict(steps=3, prompts_per_step=16, samples_per_prompt=4, prompt_len=1024,
                  output_len="lognormal:1024:0.8:4096", max_output_len=4096, generation_gpus=8,
                  training_gpus=8)
    return perfsim.RolloutConfig(**{**fields, **changes})


@pytest.mark.parametrize("changes", [{}, {"pipeline": "async", "placement": "disaggregated"}])
def test_rollout_timeline_matches_simulate_rollouts(app, ui, changes):
    at = ui.run(app, tab="RL rollouts")
    if changes:
        at.selectbox(key="rl_pipeline").select(changes["pipeline"]).run()
        at = ui.run(at.selectbox(key="rl_placement").select(changes["placement"]))
    result = perfsim.simulate_rollouts(QWEN, H100, rl=_rollout_config(**changes), seed=0)
    summary = result.summary()
    assert ui.metric(at, "Step time") == f"{summary['step_s']:,.3f} s"
    assert ui.metric(at, "Weight sync") == f"{summary['sync_s']:,.3f} s"
    spec = ui.chart(at, "RL step timeline")
    timeline = result.timeline
    for trace in spec["data"]:
        rows = timeline[timeline.phase == trace["name"]]
        assert ui.values(trace["base"]).astype(float) == pytest.approx(rows.start_s.to_numpy())
    assert {t["name"] for t in spec["data"]} == set(timeline.phase)
    assert pd.Series(timeline.pool).nunique() == (2 if changes else 1)
