"""Shared helpers for the dashboard tests: a fresh AppTest per test, chart specs and metrics.

Streamlit's data caches live in the process, so a what-if computed by one test is reused by the
next; each AppTest still starts a fresh session (its own widgets, query parameters and tab).
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
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


def memory_parts(at) -> dict[str, float]:
    """Part -> GB of the Overview's memory-fit bar (HTML: one segment per part, data-gb)."""
    import re

    bars = [h.value for h in at.get("html") if "perfsim-memory" in h.value]
    assert len(bars) == 1, f"expected one memory-fit bar, got {len(bars)}"
    return {part: float(gb) for part, gb in re.findall(r'data-part="([^"]+)" data-gb="([0-9.]+)"', bars[0])}


def metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, f"metric {label!r} not found once in {[m.label for m in at.metric]}"
    return found[0]


def run(target, tab: str | None = None):
    """Run the app, or the app of a widget just changed (optionally on `tab`), failing on any
    exception shown in the page; returns the AppTest."""
    if hasattr(target, "session_state"):  # the AppTest itself
        if tab is not None:  # the tab is bound to the URL: a link's value wins over session state
            target.session_state["tab"] = tab
            target.query_params["tab"] = tab
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=180)


@pytest.fixture
def ui():
    return SimpleNamespace(values=values, charts=charts, chart=chart, metric=metric, run=run,
                           memory_parts=memory_parts)


# --- real browser (tests/dashboard/test_browser*.py) -----------------------------------------
#: Chromium flags for a headless, GPU-less, offline run.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The app finished its script run.
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app on a free local port (started as `perfsim dashboard` starts it), for the session."""
    from perfsim.cli.dashboard import streamlit_command, wait_until_serving

    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(streamlit_command(port, "127.0.0.1", browser=False), stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_serving(url, proc, timeout_s=90):
            pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


#: Label -> value of every metric on the page, read in one pass (labels and values from the same DOM).
_METRICS_JS = """() => {
    const labels = [...document.querySelectorAll("[data-testid='stMetricLabel']")];
    const values = [...document.querySelectorAll("[data-testid='stMetricValue']")];
    return labels.length === values.length
        ? labels.map((label, i) => [label.innerText.trim(), values[i].innerText]) : null;
}"""
#: The headline metrics every ready page shows above its tabs.
HEADLINE = ("TTFT", "TPOT", "Throughput")


def page_metrics(page) -> dict[str, str]:
    """Metric label -> value text, as shown once the app is idle with its headline painted.

    Waits on the headline labels and the idle state together, then reads labels and values in one
    pass: a rerun (the URL-bound tab syncing, an upload applying) may repaint the page between a
    first idle signal and the read, and a read of a half-painted page missed the headline."""
    page.wait_for_function(f"""() => {{
        const idle = document.querySelector({IDLE!r});
        const pairs = ({_METRICS_JS})();
        return idle !== null && pairs !== null
            && {list(HEADLINE)!r}.every(name => pairs.some(([label]) => label === name));
    }}""")
    return dict(page.evaluate(_METRICS_JS))


#: Label -> delta text of every metric that shows a delta, read per metric container in one pass.
_DELTAS_JS = """() => Object.fromEntries([...document.querySelectorAll("[data-testid='stMetric']")]
    .map(m => [m.querySelector("[data-testid='stMetricLabel']"),
               m.querySelector("[data-testid='stMetricDelta']")])
    .filter(([label, delta]) => label && delta)
    .map(([label, delta]) => [label.innerText.trim(), delta.innerText.trim()]))"""


def page_deltas(page, labels) -> dict[str, str]:
    """Metric label -> delta text for `labels`, once the app is idle and each of them shows one
    (a rerun repaints metrics one by one: reading mid-repaint paired labels with stale deltas)."""
    page.wait_for_function(f"""() => {{
        const deltas = ({_DELTAS_JS})();
        return document.querySelector({IDLE!r}) !== null && {list(labels)!r}.every(l => l in deltas);
    }}""")
    return page.evaluate(_DELTAS_JS)


@pytest.fixture
def web():
    return SimpleNamespace(FLAGS=FLAGS, IDLE=IDLE, HEADLINE=HEADLINE, metrics=page_metrics,
                           deltas=page_deltas)
