"""Shared helpers for the dashboard tests: a fresh AppTest per test, chart specs and metrics.

Streamlit's data caches live in the process, so a what-if computed by one test is reused by the
next; each AppTest still starts a fresh session (its own widgets, query parameters and tab).
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import numpy as np
import pytest

import perfsim.dashboard

APP = str(perfsim.dashboard.APP_PATH)


def values(data) -> np.ndarray:
    """Plotly JSON array, plain or typed (`{"dtype", "bdata", "shape"}` since plotly 6)."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = data.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array
    return np.asarray(data, dtype=object)


def charts(at) -> dict[str, dict]:
    """Plotly specs on the page, by title."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def chart(at, prefix: str) -> dict:
    found = [spec for title, spec in charts(at).items() if title.startswith(prefix)]
    assert len(found) == 1, f"expected one chart titled {prefix!r}..., got {list(charts(at))}"
    return found[0]


def metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, f"metric {label!r} not found once in {[m.label for m in at.metric]}"
    return found[0]


def run(target, tab: str | None = None):
    """Run the app, or the app of a widget just changed (optionally on `tab`), failing on any
    exception shown in the page; returns the AppTest."""
    if hasattr(target, "session_state"):  # the AppTest itself
        if tab is not None:
            target.session_state["tab"] = tab
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=180)


@pytest.fixture
def ui():
    return SimpleNamespace(values=values, charts=charts, chart=chart, metric=metric, run=run)
