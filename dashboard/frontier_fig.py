"""The latency-accuracy frontier figure: readable log ticks, every point named, labels that do
not overlap, measured and estimated accuracies drawn differently."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from perfsim.dashboard.provenance import accuracy_kind

#: Marker per accuracy provenance (filled on the Pareto front, open when dominated).
KIND_SYMBOLS = {"measured": "circle", "proxy": "square", "estimated": "triangle-up"}
#: Candidate label positions, tried in order, as the label box's centre offset from the point in
#: (label widths, label heights): plotly puts 'top center' text above the marker, 'middle right'
#: text to its right, and so on.
_POSITIONS = (("top center", 0.0, 0.9), ("bottom center", 0.0, -0.9), ("middle right", 0.6, 0.0),
              ("middle left", -0.6, 0.0), ("top right", 0.6, 0.9), ("bottom left", -0.6, -0.9),
              ("top left", -0.6, 0.9), ("bottom right", 0.6, -0.9))


def _tick_text(value: float) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:.{max(0, -math.floor(math.log10(value)))}f}"


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """1-2-5 ticks spanning [low, high] with plain labels ('0.5', '1', '2', '5', '10', '20')."""
    if not (low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high)):
        return [], []
    values = []
    for decade in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        values += [m * 10.0 ** decade for m in (1, 2, 5)]
    inside = [v for v in values if low / 2.5 <= v <= high * 2.5]  # 1-2-5 steps are at most 2.5x
    return inside, [_tick_text(v) for v in inside]


def label_boxes(x: np.ndarray, y: np.ndarray, texts: list[str], positions: list[str | None]) -> list[tuple]:
    """The box (x0, x1, y0, y1) each placed label covers, in log-x and linear-y units normalised
    to the plotted spans (about 1.2 % of the width per character, 6 % of the height per line)."""
    lx = np.log10(np.asarray(x, dtype=float))
    ys = np.asarray(y, dtype=float)
    span_x, span_y = max(float(np.ptp(lx)), 1e-9), max(float(np.ptp(ys)), 1e-9)
    offsets = {name: (dx, dy) for name, dx, dy in _POSITIONS}
    boxes = []
    for i, position in enumerate(positions):
        if position is None:
            continue
        width, height = 0.012 * len(texts[i]), 0.06
        dx, dy = offsets[position]
        cx, cy = lx[i] / span_x + dx * width, ys[i] / span_y + dy * height
        boxes.append((cx - width / 2, cx + width / 2, cy - height / 2, cy + height / 2))
    return boxes


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def place_labels(x: np.ndarray, y: np.ndarray, texts: list[str]) -> list[str | None]:
    """A text position per point such that no two labels overlap: points are taken left to right
    and each gets the first candidate position whose box is clear of those already placed; a point
    in a cluster too dense for any position gets None (no label; its hover still names it)."""
    out: list[str | None] = [None] * len(x)
    placed: list[tuple] = []
    for i in np.argsort(np.asarray(x, dtype=float), kind="stable"):
        for name, _, _ in _POSITIONS:
            trial: list[str | None] = [None] * len(x)
            trial[int(i)] = name
            box = label_boxes(x, y, texts, trial)[0]
            if not any(_overlap(box, other) for other in placed):
                out[int(i)] = name
                placed.append(box)
                break
    return out


def _error_bars(part: pd.DataFrame) -> dict | None:
    """The accuracy interval as error bars, when the frontier carries one (accuracy_low/high)."""
    if not {"accuracy_low", "accuracy_high"} <= set(part.columns):
        return None
    high = (part["accuracy_high"] - part["accuracy"]).clip(lower=0).fillna(0)
    low = (part["accuracy"] - part["accuracy_low"]).clip(lower=0).fillna(0)
    return {"type": "data", "symmetric": False, "array": list(high), "arrayminus": list(low), "thickness": 1}


def make_frontier_fig(frame: pd.DataFrame, *, x: str, x_title: str, x_scale: float, current: str | None,
                      title: str, y_title: str = "Accuracy (%, higher is better)",
                      kinds: pd.Series | None = None,
                      baseline: str | None = None) -> go.Figure:
    """Latency (`x` column times `x_scale`) versus accuracy per design, one colour per device, its
    Pareto front as a line, each point labelled with its design; `kinds` ('measured' or
    'estimated' per row) picks the marker. The what-if is a star, a pinned `baseline` a cross."""
    fig = go.Figure()
    kinds = kinds if kinds is not None else accuracy_kind(frame)
    shown = frame[frame["fits"] & frame[x].notna() & frame["accuracy"].notna()]
    spots = place_labels(shown[x].to_numpy() * x_scale, shown["accuracy"].to_numpy(),
                         [str(d) for d in shown["design"]])
    positions = dict(zip(shown.index, spots, strict=True))
    for i, (hw, rows) in enumerate(shown.groupby("hardware", sort=False)):
        colour = qualitative.Plotly[i % 10]
        for (on_front, kind), part in rows.groupby([rows["on_front"], kinds.loc[rows.index]], sort=False):
            symbol = KIND_SYMBOLS.get(str(kind), "circle") + ("" if on_front else "-open")
            custom = np.stack([part["design"], part["params"] / 1e9, part["accuracy_source"].astype(str),
                               part["tokens_per_s"]], axis=1)
            fig.add_trace(go.Scatter(
                x=part[x] * x_scale, y=part["accuracy"], mode="markers+text",
                text=[str(d) if positions[j] else ""
                      for d, j in zip(part["design"], part.index, strict=True)],
                textposition=[positions[j] or "top center" for j in part.index],
                textfont={"size": 10, "color": colour},
                name=hw if on_front else f"{hw} (dominated)", legendgroup=hw,
                showlegend=bool(on_front) and kind == kinds.loc[rows.index][rows["on_front"]].iloc[0],
                marker={"size": 10, "color": colour, "symbol": symbol}, customdata=custom,
                error_y=_error_bars(part),
                hovertemplate="<b>%{customdata[0]}</b> on " + str(hw) + "<br>%{customdata[1]:.2f} B params"
                              "<br>" + x_title + ": %{x:,.3g}<br>accuracy %{y:.1f} % (" + str(kind)
                              + ", %{customdata[2]})<br>%{customdata[3]:,.0f} tok/s<extra></extra>"))
        front = rows[rows["on_front"]].sort_values(x)
        fig.add_trace(go.Scatter(x=front[x] * x_scale, y=front["accuracy"], mode="lines",
                                 line={"color": colour, "shape": "hv"}, name=f"{hw} Pareto front",
                                 legendgroup=hw, hoverinfo="skip", showlegend=False))
        for design, name, symbol in ((current, "this what-if", "star"), (baseline, "baseline", "x")):
            me = rows[rows["design"] == design] if design is not None else rows.iloc[:0]
            if len(me):
                fig.add_trace(go.Scatter(x=me[x] * x_scale, y=me["accuracy"], mode="markers", name=name,
                                         marker={"symbol": symbol, "size": 18, "color": colour,
                                                 "line": {"width": 1, "color": "black"}},
                                         legendgroup=name, hoverinfo="skip", showlegend=i == 0))
    values = shown[x].to_numpy(dtype=float) * x_scale
    tickvals, ticktext = log_ticks(float(values.min()), float(values.max())) if len(values) else ([], [])
    fig.update_layout(title={"text": title}, margin={"l": 60, "r": 20, "t": 70, "b": 50},
                      legend={"title": {"text": ""}}, xaxis_type="log")
    fig.update_xaxes(title_text=f"{x_title}, log scale", tickvals=tickvals, ticktext=ticktext)
    fig.update_yaxes(title_text=y_title)
    return fig
