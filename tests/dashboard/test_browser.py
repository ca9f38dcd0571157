"""Real browser: Playwright drives the system Chromium against `streamlit run dashboard/app.py`.

Changes the model and the batch in the sidebar, checks that the headline metrics and the frontier
chart follow (to the library's numbers), and saves a screenshot: to $PERFSIM_SCREENSHOT when set
(`PERFSIM_SCREENSHOT=<file>` keeps it), else to a temp dir; docs/dashboard/ holds every tab.
Playwright's own browser download is never used: the project's set-up installs Debian's Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import perfsim
from perfsim.dashboard.fmt import headline_time

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.dashboard, pytest.mark.browser, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs the system Chromium at /usr/bin/chromium (apt-get install chromium)",
)]


@pytest.fixture
def page(server, web):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=web.FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(90_000)
        yield page
        browser.close()


#: JS: the live plotly figure whose title (Streamlit's theme wraps it in <b>) starts with `prefix`.
FIND_PLOT = """(prefix) => [...document.querySelectorAll('.js-plotly-plot')].find(
    p => p.layout && (p.layout.title.text || '').replace(/<[^>]+>/g, '').startsWith(prefix))"""


def _frontier(page) -> dict:
    """Title and the 'this what-if' stars of the frontier chart, read from the live figure."""
    return page.evaluate(f"""() => {{
        const plot = ({FIND_PLOT})('Latency vs accuracy');
        const stars = plot._fullData.filter(t => t.marker && t.marker.symbol === 'star');
        return {{title: plot.layout.title.text.replace(/<[^>]+>/g, ''),
                 x: stars.map(t => t.x[0]), y: stars.map(t => t.y[0])}};
    }}""")


def _plot_titled(prefix: str) -> str:
    return f"!!({FIND_PLOT})({prefix!r})"


def _settle(page, condition: str) -> None:
    """Wait until the app reran for a change (`condition`, a JS expression) and finished."""
    page.wait_for_function(condition)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


def test_model_and_batch_changes_update_metrics_and_frontier(page, server, web, tmp_path):
    page.goto(server)
    page.wait_for_selector("[data-testid='stMetricValue']")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    before = web.metrics(page)
    default = perfsim.generate("qwen3-8b", "h100-sxm", 1, 1024, 256)
    assert before["TTFT"] == headline_time(default.ttft_s)

    page.get_by_role("tab", name="Frontier").click()
    page.wait_for_selector(".js-plotly-plot")
    _settle(page, _plot_titled("Latency vs accuracy"))
    old = _frontier(page)
    assert old["title"].startswith("Latency vs accuracy: batch 1")

    model = page.get_by_role("combobox", name="Model", exact=True)
    model.click()
    model.fill("llama-3.1-8b")
    page.get_by_role("option", name="llama-3.1-8b", exact=True).click()
    _settle(page, "document.body.innerText.includes('llama-3.1-8b on h100-sxm')")
    batch = page.get_by_label("Batch (sequences)")
    batch.fill("8")
    batch.press("Enter")
    _settle(page, "document.body.innerText.includes('h100-sxm · batch 8')")
    page.wait_for_function(_plot_titled("Latency vs accuracy: batch 8"))

    after = web.metrics(page)
    expected = perfsim.generate("llama-3.1-8b", "h100-sxm", 8, 1024, 256)
    assert after["TTFT"] == headline_time(expected.ttft_s) != before["TTFT"]
    assert after["TPOT"] == headline_time(expected.tpot_s)
    new = _frontier(page)
    frame = perfsim.evaluate_frontier(["llama-3.1-8b"], ["h100-sxm", "a10g", "jetson-agx-orin-64gb"], batch=8)
    assert sorted(new["x"]) == pytest.approx(sorted(frame.e2e_s))
    assert new["x"] != old["x"] and "batch=8" in page.url and "model=llama-3.1-8b" in page.url

    shot = Path(os.environ.get("PERFSIM_SCREENSHOT") or tmp_path / "perfsim.dashboard.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring, no hover label
    page.evaluate("document.querySelector(\"[data-testid='stSidebarContent']\")?.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
