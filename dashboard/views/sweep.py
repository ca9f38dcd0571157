"""Sweep tab: a heatmap of one metric over two axes (batch x context, or depth x width), from
`perfsim.evaluate_grid`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import streamlit as st

from perfsim.dashboard import runs, tabstate
from perfsim.dashboard.edits import layer_groups, with_depth, with_width
from perfsim.dashboard.figures import make_heatmap_fig
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, csv_button, ready

AXES = {"batch_context": "Batch × context", "depth_width": "Depth × width"}
#: label -> (evaluate_grid phase, column, scale, value format)
METRICS: dict[str, tuple[Literal["decode", "prefill"], str, float, str]] = {
    "Decode step latency (ms)": ("decode", "latency_s", 1e3, ",.2f"),
    "Decode throughput (tok/s)": ("decode", "tokens_per_s", 1.0, ",.0f"),
    "Prefill latency (ms)": ("prefill", "latency_s", 1e3, ",.1f"),
    "Memory (GB)": ("decode", "memory_bytes", 1e-9, ",.1f"),
}
SCALES = (0.5, 0.75, 1.0, 1.25, 1.5)


def _pivot(frame: pd.DataFrame, rows: str, cols: str, value: str, scale: float):
    table = frame.pivot_table(index=rows, columns=cols, values=value, aggfunc="first") * scale
    fits = frame.pivot_table(index=rows, columns=cols, values="fits", aggfunc="first").astype(bool)
    return table, fits


def batch_context(setup: ReadySetup, metric: str, batches: list[int], contexts: list[int]):
    """(table, fits, grid) of `metric` for batch (rows) x context (columns)."""
    phase, column, scale, _ = METRICS[metric]
    grid = runs.grid(setup, [setup.model], batches, contexts, phase, "bc")
    table, fits = _pivot(grid, "batch", "context_len", column, scale)
    return table, fits, grid


def depth_width(setup: ReadySetup, metric: str):
    """(table, fits, grid) of `metric` for depth (rows) x hidden size (columns) around the current
    model, at the what-if's batch and mean decode context (prefill: the prompt)."""
    phase, column, scale, _ = METRICS[metric]
    depth = len(layer_groups(setup.model))
    depths = sorted({max(1, int(round(depth * s))) for s in SCALES})
    widths = sorted({max(64, int(round(setup.model.hidden_size * s / 64)) * 64) for s in SCALES})
    models, labels = [], []
    for d in depths:
        deep = with_depth(setup.model, d)
        for w in widths:
            models.append(with_width(deep, w).model_copy(update={"id": f"{d}x{w}"}))
            labels.append((d, w))
    context = setup.prompt_len if phase == "prefill" else setup.prompt_len + setup.output_len // 2
    grid = runs.grid(setup, models, [setup.batch], [context], phase, f"dw{depths}{widths}")
    grid = grid.assign(depth=[d for d, _ in labels], hidden=[w for _, w in labels])
    table, fits = _pivot(grid, "depth", "hidden", column, scale)
    return table, fits, grid


def context_options(setup: ReadySetup) -> tuple[list[int], tuple[int, int]]:
    """Context choices up to the model's limit, and the default range."""
    limit = setup.model.max_context_len
    options = [c for c in runs.powers_of_two(128, 1 << 20) if c <= limit] or [limit]
    return options, (options[min(2, len(options) - 1)], options[-1])


def sweep_for(setup: ReadySetup, state: Mapping):
    """(table, fits, grid, axis titles, title) from the tab's control values in `state`."""
    metric = state.get("sweep_metric", next(iter(METRICS)))
    if state.get("sweep_axes", "batch_context") == "batch_context":
        b_lo, b_hi = state.get("sweep_batch", (1, 256))
        c_lo, c_hi = state.get("sweep_context", context_options(setup)[1])
        table, fits, grid = batch_context(setup, metric, runs.powers_of_two(b_lo, b_hi),
                                          runs.powers_of_two(c_lo, c_hi))
        return (table, fits, grid, ("Context (tokens)", "Batch (sequences)"),
                f"{metric} over batch × context: {setup.model.id} on {setup.hardware.id}")
    table, fits, grid = depth_width(setup, metric)
    return (table, fits, grid, ("Hidden size (width)", "Depth (token-mixer layers)"),
            f"{metric} over depth × width around {setup.model.id} on {setup.hardware.id}, "
            f"batch {setup.batch}")


def export(setup: ReadySetup, state: Mapping) -> dict:
    """The tab's grid for the JSON export: every evaluate_grid row (SI units)."""
    _, _, grid, _, title = sweep_for(setup, state)
    return {"title": title, "grid": grid.to_dict(orient="records")}


def render(setup: Setup) -> None:
    """One metric over two axes around the what-if, with cells that do not fit greyed out."""
    if not ready(setup):
        return
    c1, c2 = st.columns(2)
    axes = tabstate.radio(c1, "Axes", list(AXES), "sweep_axes", "batch_context", format_func=AXES.get,
                          horizontal=True)
    metric = tabstate.select(c2, "Metric", list(METRICS), "sweep_metric", next(iter(METRICS)))
    if axes == "batch_context":
        c1, c2 = st.columns(2)
        tabstate.range_slider(c1, "Batch range (sequences)", runs.powers_of_two(1, 1024), "sweep_batch",
                              (1, 256))
        options, default = context_options(setup)
        tabstate.range_slider(c2, "Context range (tokens)", options, "sweep_context", default)
    table, fits, grid, (x_title, y_title), title = sweep_for(setup, st.session_state)
    chart(make_heatmap_fig(table, fits, title=title, x_title=x_title, y_title=y_title, metric=metric,
                           value_fmt=METRICS[metric][3]), "sweep_heatmap")
    blocked = int((~fits.to_numpy()).sum())
    st.caption(f"{table.size} points from perfsim.evaluate_grid (decode: one token per sequence with the "
               f"context cached; prefill: the whole prompt). {blocked} do not fit in "
               f"{setup.hardware.id}'s memory (weights + KV + state + runtime reserve).")
    if np.isnan(table.to_numpy(dtype=float)).all():
        st.error("No point of this sweep fits in memory; pick smaller ranges.")
    csv_button(grid, "perfsim-sweep-grid.csv", "sweep")
