"""Dashboard first render: seconds from opening the page to the rendered Overview (headline
numbers and memory-fit bar), and to a chart tab's plotly chart, in headless Chromium against
`perfsim dashboard`'s own Streamlit command.

Medians of --reps runs, for
- cold: a fresh server process per run (imports, catalogue, first predictions all paid);
- new session: a fresh browser context on a server that has already served one page (what a
  second user or a reload sees).
The chart figure includes the browser loading Streamlit's plotly bundle (the Overview needs none).

    .venv/bin/python benchmarks/bench_dashboard.py [--reps 5]

Needs the dashboard extra, Playwright's Python package and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfsim.cli.dashboard import streamlit_command, wait_until_serving  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
#: The Overview is rendered: headline numbers and the memory-fit bar on screen, script idle.
NUMBERS = ("() => document.querySelector(\"[data-testid='stMetricValue']\") && "
           "document.querySelector('.perfsim-memory') && "
           "document.querySelector(\"[data-testid='stApp'][data-test-script-state='notRunning']\")")
#: A chart tab (the Roofline, opened by its link) has drawn its plotly chart.
CHART = "() => document.querySelector('.js-plotly-plot .main-svg')"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server():
    """A dashboard server on a free port, up (health check answered) when entered."""
    port = _port()
    proc = subprocess.Popen(streamlit_command(port, "127.0.0.1", browser=False), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_serving(url, proc, timeout_s=120):
            raise SystemExit("the dashboard server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _seconds(browser, url: str, condition: str) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(condition, timeout=120_000, polling=20)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def render_s(browser, url: str) -> tuple[float, float]:
    """Seconds from navigation to the rendered Overview, then (a new context) to a chart tab's chart."""
    return _seconds(browser, url, NUMBERS), _seconds(browser, f"{url}/?tab=Roofline", CHART)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    cold, warm = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for _ in range(args.reps):
            with server() as url:
                cold.append(render_s(browser, url))
                warm.append(render_s(browser, url))
        browser.close()
    for name, runs in (("cold (new server)", cold), ("new session on a running server", warm)):
        for i, what in enumerate(("first render (Overview)", "a chart tab (Roofline)")):
            times = [r[i] for r in runs]
            print(f"{name}, {what}: median {statistics.median(times):.2f} s of {args.reps} "
                  f"(runs: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
