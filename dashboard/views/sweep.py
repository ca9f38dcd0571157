"""Sweep tab: a heatmap of one metric over two axes (batch x context, or depth x width), from
`perfsim.evaluate_grid`."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import streamlit as st

from perfsim.dashboard import runs
from perfsim.dashboard.edits import layer_groups, with_depth, with_width
from perfsim.dashboard.figures import make_heatmap_fig
from perfsim.dashboard.sidebar import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, ready

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


def render(setup: Setup) -> None:
    """One metric over two axes around the what-if, with cells that do not fit greyed out."""
    if not ready(setup):
        return
    c1, c2 = st.columns(2)
    axes = c1.radio("Axes", list(AXES), format_func=AXES.get, horizontal=True, key="sweep_axes")
    metric = c2.selectbox("Metric", list(METRICS), key="sweep_metric")
    _, _, _, value_fmt = METRICS[metric]
    if axes == "batch_context":
        limit = setup.model.max_context_len
        c1, c2 = st.columns(2)
        b_lo, b_hi = c1.select_slider("Batch range (sequences)", options=runs.powers_of_two(1, 1024),
                                      value=(1, 256), key="sweep_batch")
        ctx_options = [c for c in runs.powers_of_two(128, 1 << 20) if c <= limit] or [limit]
        default = (ctx_options[min(2, len(ctx_options) - 1)], ctx_options[-1])
        c_lo, c_hi = c2.select_slider("Context range (tokens)", options=ctx_options, value=default,
                                      key="sweep_context")
        batches, contexts = runs.powers_of_two(b_lo, b_hi), runs.powers_of_two(c_lo, c_hi)
        table, fits, _ = batch_context(setup, metric, batches, contexts)
        x_title, y_title = "Context (tokens)", "Batch (sequences)"
        title = f"{metric} over batch × context: {setup.model.id} on {setup.hardware.id}"
    else:
        table, fits, _ = depth_width(setup, metric)
        x_title, y_title = "Hidden size (width)", "Depth (token-mixer layers)"
        title = (f"{metric} over depth × width around {setup.model.id} on {setup.hardware.id}, "
                 f"batch {setup.batch}")
    chart(make_heatmap_fig(table, fits, title=title, x_title=x_title, y_title=y_title, metric=metric,
                           value_fmt=value_fmt), "sweep_heatmap")
    blocked = int((~fits.to_numpy()).sum())
    st.caption(f"{table.size} points from perfsim.evaluate_grid (decode: one token per sequence with the "
               f"context cached; prefill: the whole prompt). {blocked} do not fit in "
               f"{setup.hardware.id}'s memory (weights + KV + state + runtime reserve).")
    if np.isnan(table.to_numpy(dtype=float)).all():
        st.error("No point of this sweep fits in memory; pick smaller ranges.")
