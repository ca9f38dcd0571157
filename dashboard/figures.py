"""Plotly figure builders: pure functions from library tables to figures, testable without Streamlit.

Every figure has a title and unit-bearing axis titles. Traces are SVG (`go.Scatter`, never
WebGL), so charts render in headless browsers without a GPU and stay crisp in screenshots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from perfsim.dashboard.frontier_fig import make_frontier_fig

__all__ = ["make_frontier_fig"]  # re-exported: every figure builder is importable from here

#: One colour per operator family / memory part / phase, the same in every chart.
COLORS = {
    "gemm": "#4C78A8", "attention": "#F58518", "moe": "#54A24B", "mamba2": "#B279A2",
    "linear_attention": "#9D755D", "elementwise": "#72B7B2", "allreduce": "#E45756",
    "launch overhead": "#BAB0AC", "KV cache": "#F58518", "recurrent state": "#B279A2",
    "activations": "#72B7B2", "runtime reserve": "#BAB0AC", "embeddings": "#EECA3B",
    "generation": "#4C78A8", "training": "#F58518", "sync": "#E45756", "idle": "#D3D3D3",
}
PHASE_SYMBOLS = {"prefill": "circle", "decode": "diamond"}


def color(name: str, index: int = 0) -> str:
    """The fixed colour of a family/part/phase, else the `index`-th of plotly's palette."""
    return COLORS.get(name, qualitative.Plotly[index % len(qualitative.Plotly)])


def _style(fig: go.Figure, title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    layout.setdefault("legend", {"title": {"text": ""}})
    fig.update_layout(title={"text": title}, margin={"l": 60, "r": 20, "t": 70, "b": 50}, **layout)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def _marker_line(fig: go.Figure, x: float, y0: float, y1: float, label: str) -> None:
    """A labelled vertical dotted line drawn as a trace: layout shapes take log10 coordinates
    on log axes, traces take data values on any axis."""
    fig.add_trace(go.Scatter(x=[x, x], y=[y0, y1], mode="lines+text", text=["", label],
                             textposition="top center", line={"dash": "dot", "color": "#888"},
                             name=label, showlegend=False, hoverinfo="skip"))


def make_roofline_fig(points: pd.DataFrame, peak_flops: float, bandwidth: float, title: str) -> go.Figure:
    """Kernels at (arithmetic intensity, attained FLOP/s) under the device's memory and compute
    roofs. `points`: phase, kernel, sublayer, family, flops, bytes, time_s, share, bound."""
    ridge = peak_flops / bandwidth
    intensity = points["flops"] / points["bytes"]
    lo = float(min(intensity.min(), ridge) / 4) if len(points) else ridge / 100
    hi = float(max(intensity.max(), ridge) * 4) if len(points) else ridge * 100
    fig = go.Figure()
    xs = np.array([lo, ridge, hi])
    fig.add_trace(go.Scatter(x=xs[:2], y=xs[:2] * bandwidth / 1e12, mode="lines",
                             name=f"memory roof ({bandwidth / 1e12:,.2f} TB/s)",
                             line={"color": "#444", "width": 2}))
    fig.add_trace(go.Scatter(x=xs[1:], y=[peak_flops / 1e12] * 2, mode="lines",
                             name=f"compute roof ({peak_flops / 1e12:,.0f} TFLOP/s)",
                             line={"color": "#444", "width": 2, "dash": "dash"}))
    for i, ((phase, family), rows) in enumerate(points.groupby(["phase", "family"], sort=False)):
        attained = rows["flops"] / rows["time_s"] / 1e12
        fig.add_trace(go.Scatter(
            x=rows["flops"] / rows["bytes"], y=attained, mode="markers", name=f"{phase} · {family}",
            marker={"symbol": PHASE_SYMBOLS.get(str(phase), "circle"), "size": 11,
                    "color": color(str(family), i),
                    "line": {"width": 1, "color": "white"}},
            customdata=np.stack([rows["kernel"], rows["sublayer"], rows["time_s"] * 1e6,
                                 rows["share"] * 100, rows["bound"]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>intensity %{x:.3g} FLOP/B"
                          "<br>attained %{y:.3g} TFLOP/s<br>time %{customdata[2]:.1f} µs "
                          "(%{customdata[3]:.1f} % of step)<br>%{customdata[4]}-bound<extra></extra>"))
    attained = points["flops"] / points["time_s"] / 1e12
    low = float(attained.min() / 2) if len(points) else lo * bandwidth / 1e12
    _marker_line(fig, ridge, min(low, ridge * bandwidth / 1e12), peak_flops / 1e12,
                 f"ridge {ridge:,.0f} FLOP/B")
    fig = _style(fig, title, "Arithmetic intensity (FLOP/byte)", "Attained performance (TFLOP/s)",
                 xaxis_type="log", yaxis_type="log")
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(dtick=1)
    return fig


def _stacked(frame: pd.DataFrame, value: str, scale: float, title: str, y_title: str,
             text_fmt: str, unit: str) -> go.Figure:
    fig = go.Figure()
    phases = list(dict.fromkeys(frame["phase"]))
    for i, (family, rows) in enumerate(frame.groupby("family", sort=False)):
        by_phase = rows.groupby("phase")[value].sum().reindex(phases, fill_value=0.0)
        fig.add_trace(go.Bar(x=phases, y=by_phase.to_numpy() * scale, name=family,
                             marker_color=color(str(family), i),
                             hovertemplate=f"{family}: %{{y:{text_fmt}}} {unit}<extra>%{{x}}</extra>"))
    totals = frame.groupby("phase")[value].sum().reindex(phases) * scale
    for phase, total in totals.items():
        fig.add_annotation(x=phase, y=total, text=f"{total:{text_fmt}} {unit}", showarrow=False, yshift=10)
    return _style(fig, title, "Forward pass", y_title, barmode="stack")


def make_latency_fig(frame: pd.DataFrame, title: str = "Latency by operator family") -> go.Figure:
    """Stacked time per family for each phase; `frame`: phase, family, time_s (launch overhead is
    its own family so bars add up to the step latency)."""
    return _stacked(frame, "time_s", 1e3, title, "Time per forward (ms)", ",.2f", "ms")


def make_traffic_fig(frame: pd.DataFrame, title: str = "Memory traffic by operator family") -> go.Figure:
    """Stacked bytes moved to and from device memory per family; `frame`: phase, family, bytes."""
    return _stacked(frame, "bytes", 1e-9, title, "Bytes moved per forward (GB)", ",.2f", "GB")


def make_heatmap_fig(table: pd.DataFrame, fits: pd.DataFrame, *, title: str, x_title: str, y_title: str,
                     metric: str, value_fmt: str = ",.3g") -> go.Figure:
    """Metric over a 2-D grid (`table`: rows = y values, columns = x values); cells that do not
    fit in memory are blank on a grey background and marked 'no fit'."""
    z = table.where(fits.to_numpy()).to_numpy(dtype=float)
    text = [[f"{v:{value_fmt}}" if ok else "no fit" for v, ok in zip(row, ok_row, strict=True)]
            for row, ok_row in zip(table.to_numpy(dtype=float), fits.to_numpy(), strict=True)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in table.columns], y=[str(i) for i in table.index], text=text,
        texttemplate="%{text}", colorscale="Viridis", colorbar={"title": {"text": metric}},
        hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}<br>{metric}: %{{text}}<extra></extra>"))
    fig = _style(fig, title, x_title, y_title, plot_bgcolor="#E5E5E5")
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def make_speedup_fig(frame: pd.DataFrame, title: str, marked_batch: int | None = None) -> go.Figure:
    """Speed-up of each decoding strategy over autoregressive decoding versus batch size;
    `frame`: strategy, batch, speedup, tpot_s. `marked_batch` (the sidebar's) gets a dotted line."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(frame.groupby("strategy", sort=False)):
        fig.add_trace(go.Scatter(x=rows["batch"], y=rows["speedup"], mode="lines+markers", name=name,
                                 line={"color": qualitative.Plotly[i % 10]},
                                 customdata=rows["tpot_s"] * 1e3,
                                 hovertemplate=f"{name}<br>batch %{{x}}: %{{y:.2f}}×"
                                               "<br>TPOT %{customdata:.2f} ms<extra></extra>"))
    fig.add_hline(y=1.0, line={"dash": "dot", "color": "#888"}, annotation_text="autoregressive",
                  annotation_position="bottom right")
    fig = _style(fig, title, "Batch (sequences, log scale)", "Speed-up over autoregressive (×)",
                 xaxis_type="log")
    ticks = sorted(frame["batch"].unique())
    fig.update_xaxes(tickvals=ticks, ticktext=[f"{t:,}" for t in ticks])
    if marked_batch is not None and len(frame):
        _marker_line(fig, marked_batch, 0.0, float(frame["speedup"].max()), f"batch {marked_batch:,}")
    return fig


def make_slots_fig(frame: pd.DataFrame, knee: int, title: str) -> go.Figure:
    """Forward latency versus query tokens per sequence (the free-token-slot curve)."""
    fig = go.Figure(go.Scatter(x=frame["slots"], y=frame["latency_s"] * 1e3, mode="lines+markers",
                               name="forward latency", customdata=frame["relative"], showlegend=False,
                               hovertemplate="%{x} slots: %{y:.3f} ms (%{customdata:.2f}× one slot)"
                                             "<extra></extra>"))
    if knee:
        y = frame["latency_s"] * 1e3
        _marker_line(fig, knee, float(y.min()), float(y.max()), f"knee: {knee} slots within 10 %")
    fig = _style(fig, title, "Query tokens per sequence per forward (log scale)", "Forward latency (ms)",
                 xaxis_type="log")
    fig.update_xaxes(tickvals=list(frame["slots"]), ticktext=[str(t) for t in frame["slots"]])
    return fig


def make_percentiles_fig(summary: dict, title: str) -> go.Figure:
    """TTFT, TPOT and end-to-end latency percentiles of a serving run, each in its own panel."""
    metrics = (("ttft", "TTFT"), ("tpot", "TPOT"), ("e2e", "End-to-end"))
    fig = make_subplots(rows=1, cols=3, subplot_titles=[label for _, label in metrics])
    for col, (stem, _) in enumerate(metrics, start=1):
        names = ["mean", "p50", "p90", "p99"]
        seconds = [summary[f"{stem}_{n}_s"] for n in names]
        unit, scale = ("s", 1.0) if max(seconds) >= 1.0 else ("ms", 1e3)  # per panel, by magnitude
        fig.add_trace(go.Bar(x=names, y=[v * scale for v in seconds],
                             marker_color=qualitative.Plotly[col - 1], showlegend=False,
                             hovertemplate=f"%{{x}}: %{{y:,.3g}} {unit}<extra></extra>"),
                      row=1, col=col)
        fig.update_yaxes(title_text=f"Latency ({unit})", row=1, col=col)
        fig.update_xaxes(title_text="Statistic", row=1, col=col)
    fig.update_layout(title={"text": title}, margin={"l": 60, "r": 20, "t": 90, "b": 50})
    return fig


def make_batch_timeline_fig(series: pd.DataFrame, title: str) -> go.Figure:
    """Running batch and waiting queue over simulated time, with KV-cache use on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for name, col, colour in (("running (batch size)", "running", "#4C78A8"),
                              ("waiting (queue)", "waiting", "#E45756")):
        fig.add_trace(go.Scatter(x=series["time_s"], y=series[col], mode="lines", name=name,
                                 line={"shape": "hv", "color": colour}), secondary_y=False)
    fig.add_trace(go.Scatter(x=series["time_s"], y=series["kv_used_fraction"] * 100, mode="lines",
                             name="KV cache used (%)", line={"color": "#54A24B", "dash": "dot"}),
                  secondary_y=True)
    fig.update_layout(title={"text": title}, margin={"l": 60, "r": 20, "t": 70, "b": 50})
    fig.update_xaxes(title_text="Simulated time (s)", tickformat=",~g")
    fig.update_yaxes(title_text="Sequences (count)", secondary_y=False)
    fig.update_yaxes(title_text="KV cache used (%)", secondary_y=True, range=[0, 100], tickformat=".0f",
                     dtick=20)
    return fig


def make_rollout_fig(timeline: pd.DataFrame, title: str) -> go.Figure:
    """Gantt chart of RL steps: one row per pool, bars coloured by phase (generation, training,
    weight sync, idle bubbles); `timeline`: pool, phase, step, start_s, end_s."""
    fig = go.Figure()
    for i, (phase, rows) in enumerate(timeline.groupby("phase", sort=False)):
        fig.add_trace(go.Bar(
            y=rows["pool"], x=rows["end_s"] - rows["start_s"], base=rows["start_s"], orientation="h",
            name=phase, marker_color=color(str(phase), i), customdata=np.stack([rows["step"], rows["start_s"],
                                                                           rows["end_s"]], axis=1),
            hovertemplate=f"{phase}, step %{{customdata[0]}}<br>%{{customdata[1]:,.2f}} s → "
                          "%{customdata[2]:,.2f} s (%{x:,.2f} s)<extra></extra>"))
    height = 220 + 60 * timeline["pool"].nunique()
    fig = _style(fig, title, "Time (s)", "GPU pool", barmode="overlay", height=height)
    fig.update_yaxes(type="category")
    return fig
