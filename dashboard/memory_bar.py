"""The Overview's memory-fit picture as plain HTML: one stacked bar of what occupies device memory
against the usable-memory line, with a legend that wraps.

Plain HTML rather than a plotly chart so the first page a user sees needs no chart library: the
browser renders the headline numbers and this bar without loading plotly (the largest part of a
cold first render).
"""

from __future__ import annotations

import html

import pandas as pd

from perfsim.dashboard.figures import color


def memory_bar_html(parts: pd.DataFrame, usable_bytes: float, title: str) -> str:
    """`parts` (part, bytes) as one horizontal stacked bar scaled so that the larger of the total
    and the usable memory spans the width; a red line marks the usable memory."""
    total = float(parts["bytes"].sum())
    span = max(total, usable_bytes) or 1.0
    segments, legend = [], []
    for i, (part, size) in enumerate(zip(parts["part"], parts["bytes"], strict=True)):
        name, gb = html.escape(str(part)), size / 1e9
        share = 100.0 * size / span
        segments.append(f'<div title="{name}: {gb:,.2f} GB" data-part="{name}" data-gb="{gb:.9f}" '
                        f'style="width:{share:.4f}%;background:{color(str(part), i)};height:100%"></div>')
        legend.append(f'<span style="white-space:nowrap;margin-right:14px"><span style="display:inline-block;'
                      f'width:10px;height:10px;background:{color(str(part), i)};margin-right:4px"></span>'
                      f'{name} {gb:,.2f} GB</span>')
    line = 100.0 * usable_bytes / span
    verdict = "fits" if total <= usable_bytes else "does not fit"
    return (
        f'<div class="perfsim-memory" style="font-family:sans-serif;font-size:14px;margin:8px 0 16px 0">'
        f'<div style="font-weight:600;margin-bottom:6px">{html.escape(title)}</div>'
        f'<div style="position:relative;height:28px;display:flex;background:#f0f2f6">{"".join(segments)}'
        f'<div style="position:absolute;left:{line:.4f}%;top:-4px;bottom:-4px;border-left:2px dashed #C00">'
        f'</div></div>'
        f'<div style="margin-top:4px;color:#555">{total / 1e9:,.2f} GB of {usable_bytes / 1e9:,.2f} GB '
        f'usable (red line): {verdict}. Device memory (GB).</div>'
        f'<div style="margin-top:6px;line-height:1.8">{"".join(legend)}</div></div>')
