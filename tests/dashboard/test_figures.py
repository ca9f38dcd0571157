"""Figure builders: titles and unit-bearing axes always, and the numbers they are given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import figures

pytestmark = pytest.mark.dashboard


def _units(fig) -> list[str]:
    layout = fig.to_plotly_json()["layout"]
    return [axis["title"]["text"] for name, axis in layout.items()
            if name.startswith(("xaxis", "yaxis")) and axis.get("title", {}).get("text")]


def _kernels():
    return pd.DataFrame({
        "phase": ["prefill", "prefill", "decode"], "kernel": ["up_proj", "attn_prefill", "up_proj"],
        "sublayer": ["mlp", "attn", "mlp"], "family": ["gemm", "attention", "gemm"],
        "flops": [2e12, 1e11, 2e9], "bytes": [1e9, 1e8, 1e9], "time_s": [3e-3, 5e-4, 4e-4],
        "share": [0.8, 0.1, 0.5], "bound": ["compute", "compute", "memory"]})


def _frontier():
    return pd.DataFrame({
        "design": ["a", "b", "c", "a"], "hardware": ["h100", "h100", "h100", "a10g"],
        "params": [1e9, 8e9, 3e9, 1e9], "accuracy": [40.0, 60.0, 45.0, 40.0],
        "accuracy_source": ["measured"] * 4, "tokens_per_s": [100.0, 50.0, 20.0, 30.0],
        "e2e_s": [1.0, 2.0, 3.0, 2.5], "on_front": [True, True, False, True],
        "fits": [True, True, True, True]})


def _all_figures():
    frame = pd.DataFrame({"phase": ["prefill"] * 2 + ["decode"] * 2,
                          "family": ["gemm", "launch overhead"] * 2,
                          "time_s": [0.02, 0.001, 0.006, 0.0005], "bytes": [2e10, 0.0, 1.5e10, 0.0]})
    table = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=[1, 2], columns=[512, 1024])
    summary = {f"{m}_{s}_s": 0.01 for m in ("ttft", "tpot", "e2e") for s in ("mean", "p50", "p90", "p99")}
    series = pd.DataFrame({"time_s": [0.0, 1.0], "running": [1, 2], "waiting": [0, 1],
                           "kv_used_fraction": [0.1, 0.2]})
    timeline = pd.DataFrame({"pool": ["colocated"] * 3, "phase": ["generation", "training", "sync"],
                             "step": [0, 0, 0], "start_s": [0.0, 10.0, 12.0], "end_s": [10.0, 12.0, 13.0]})
    slots = pd.DataFrame({"slots": [1, 2, 4], "latency_s": [1e-3, 1e-3, 1.2e-3], "relative": [1, 1, 1.2]})
    speed = pd.DataFrame({"strategy": ["s"] * 2, "batch": [1, 2], "speedup": [2.0, 1.5],
                          "tpot_s": [1e-3, 2e-3]})
    return {
        "roofline": figures.make_roofline_fig(_kernels(), 989e12, 3.35e12, "Roofline"),
        "latency": figures.make_latency_fig(frame),
        "traffic": figures.make_traffic_fig(frame),
        "heatmap": figures.make_heatmap_fig(table, table > 1.5, title="Sweep", x_title="Context (tokens)",
                                            y_title="Batch (sequences)", metric="Latency (ms)"),
        "speedup": figures.make_speedup_fig(speed, "Speed-up"),
        "slots": figures.make_slots_fig(slots, 2, "Free token slots"),
        "percentiles": figures.make_percentiles_fig(summary, "Percentiles"),
        "batch": figures.make_batch_timeline_fig(series, "Batch over time"),
        "frontier": figures.make_frontier_fig(_frontier(), x="e2e_s", x_title="End-to-end latency (s)",
                                              x_scale=1.0, current="b", title="Frontier"),
        "rollout": figures.make_rollout_fig(timeline, "RL timeline"),
    }


@pytest.mark.parametrize("name", list(_all_figures()))
def test_every_figure_has_a_title_and_axis_units(name):
    """No chart without a title; every titled axis names its unit in parentheses (the memory
    bar's single category axis is unlabelled on purpose)."""
    fig = _all_figures()[name]
    assert fig.layout.title.text
    titles = _units(fig)
    assert titles, name
    categorical = ("Forward pass", "Statistic", "GPU pool")
    assert all("(" in t and ")" in t for t in titles if t not in categorical), titles


def test_roofline_draws_both_roofs_and_kernel_points():
    """The memory roof rises at the bandwidth up to the ridge; the compute roof is flat at peak;
    kernels sit at (FLOP/byte, attained TFLOP/s)."""
    fig = figures.make_roofline_fig(_kernels(), 989e12, 3.35e12, "Roofline")
    memory, compute = fig.data[0], fig.data[1]
    ridge = 989e12 / 3.35e12
    assert memory.x[1] == pytest.approx(ridge) and memory.y[1] == pytest.approx(989.0)
    assert list(compute.y) == pytest.approx([989.0, 989.0])
    gemm = next(t for t in fig.data if t.name == "prefill · gemm")
    assert gemm.x[0] == pytest.approx(2000.0) and gemm.y[0] == pytest.approx(2e12 / 3e-3 / 1e12)
    assert not fig.layout.shapes  # the ridge is a trace: layout shapes take log10 x on log axes


def test_stacked_latency_adds_up_to_each_phase():
    frame = pd.DataFrame({"phase": ["prefill", "prefill", "decode"], "family": ["gemm", "attention", "gemm"],
                          "time_s": [0.02, 0.003, 0.006], "bytes": [1.0, 2.0, 3.0]})
    fig = figures.make_latency_fig(frame)
    totals = np.sum([np.asarray(t.y, float) for t in fig.data], axis=0)
    assert totals == pytest.approx([23.0, 6.0])
    assert fig.layout.barmode == "stack"


def test_heatmap_blanks_cells_that_do_not_fit():
    table = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=[1, 2], columns=[512, 1024])
    fits = pd.DataFrame([[True, True], [True, False]], index=[1, 2], columns=[512, 1024])
    fig = figures.make_heatmap_fig(table, fits, title="t", x_title="x (a)", y_title="y (b)", metric="m")
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z[1, 1]) and z[0, 1] == 2.0
    assert fig.data[0].text[1][1] == "no fit"


def test_frontier_marks_front_members_and_the_current_design():
    fig = figures.make_frontier_fig(_frontier(), x="e2e_s", x_title="E2E (s)", x_scale=1.0, current="b",
                                    title="F")
    h100 = next(t for t in fig.data if t.name == "h100")
    dominated = next(t for t in fig.data if t.name == "h100 (dominated)")
    assert list(h100.x) == [1.0, 2.0] and list(dominated.x) == [3.0]
    assert h100.marker.symbol == "circle" and dominated.marker.symbol == "circle-open"
    front = next(t for t in fig.data if t.name == "h100 Pareto front")
    assert list(front.x) == [1.0, 2.0]
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [list(t.x) for t in stars] == [[2.0]]  # design b exists only on h100
    assert list(h100.text) == ["a", "b"]  # every point named


def test_frontier_draws_measured_and_estimated_accuracies_differently():
    frame = _frontier().assign(accuracy_source=["measured: https://x", "scaling_law", "scaling_law",
                                                "measured: https://x"])
    fig = figures.make_frontier_fig(frame, x="e2e_s", x_title="E2E (s)", x_scale=1.0, current=None, title="F")
    symbols = {(t.name, t.marker.symbol) for t in fig.data if t.name and t.name.startswith("h100")
               and t.mode == "markers+text"}
    assert symbols == {("h100", "circle"), ("h100", "triangle-up"), ("h100 (dominated)", "triangle-up-open")}
    assert "estimated" in " ".join(t.hovertemplate for t in fig.data if t.marker.symbol == "triangle-up")


def test_frontier_skips_designs_that_do_not_fit():
    frame = _frontier().assign(fits=[True, False, True, True])
    fig = figures.make_frontier_fig(frame, x="e2e_s", x_title="E2E (s)", x_scale=1.0, current=None, title="F")
    shown = [x for t in fig.data if t.name in ("h100", "h100 (dominated)") for x in t.x]
    assert sorted(shown) == [1.0, 3.0]


def test_rollout_timeline_bars_span_start_to_end():
    timeline = pd.DataFrame({"pool": ["generation", "training"], "phase": ["generation", "idle"],
                             "step": [0, 0], "start_s": [0.0, 0.0], "end_s": [5.0, 5.0]})
    fig = figures.make_rollout_fig(timeline, "RL")
    gen = next(t for t in fig.data if t.name == "generation")
    assert list(gen.base) == [0.0] and list(gen.x) == [5.0] and gen.orientation == "h"


def test_percentile_panels_pick_seconds_or_milliseconds_by_magnitude():
    summary = {f"{m}_{s}_s": value for m, value in (("ttft", 0.035), ("tpot", 0.011), ("e2e", 3.5))
               for s in ("mean", "p50", "p90", "p99")}
    fig = figures.make_percentiles_fig(summary, "Percentiles")
    assert [fig.layout[f"yaxis{i}"].title.text for i in ("", "2", "3")] == [
        "Latency (ms)", "Latency (ms)", "Latency (s)"]
    assert list(fig.data[2].y) == [3.5] * 4 and list(fig.data[0].y) == pytest.approx([35.0] * 4)


def test_memory_bar_scales_parts_and_marks_the_usable_line():
    from perfsim.dashboard.memory_bar import memory_bar_html

    parts = pd.DataFrame({"part": ["MLP weights", "KV cache", "a<b"], "bytes": [1.6e10, 2e9, 2e9]})
    text = memory_bar_html(parts, 8e10, "Memory fit")
    assert 'style="width:20.0000%' in text and "left:100.0000%" in text  # 16 of 80 GB; the line at 80
    assert "a&lt;b 2.00 GB" in text and "20.00 GB of 80.00 GB usable (red line): fits" in text
    over = memory_bar_html(parts, 1e10, "Memory fit")
    assert "left:50.0000%" in over and "does not fit" in over  # the bar spans the 20 GB total
