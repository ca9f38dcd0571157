"""Real browser (system Chromium): the what-if a researcher leaves open survives. A control set in
each tab survives tab switches and a reload of the link in a fresh browser; a pinned baseline shows
`perfsim compare`'s deltas; the JSON export re-imports to the same state. With
$PERFSIM_SCREENSHOTS=<dir>, every tab is also saved at 1280 and 1920 px wide (docs/dashboard/).

Deterministic: every step waits on an element or on the app going idle, never on a sleep.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import perfsim

CHROMIUM = Path("/usr/bin/chromium")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

pytestmark = [pytest.mark.dashboard, pytest.mark.browser, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs the system Chromium at /usr/bin/chromium (apt-get install chromium)",
)]

#: tab -> (kind, label, value typed or picked, how the value reads back, its URL parameter)
CONTROLS = {
    "Frontier": ("select", "Latency", "TPOT (ms)", "TPOT (ms)", "fr_latency=tpot_s"),
    "Sweep": ("select", "Metric", "Memory (GB)", "Memory (GB)", "sweep_metric=Memory"),
    "Decoding": ("number", "Draft length k", "3", "3", "cmp_spec_k=3"),
    "Serving": ("number", "Requests", "60", "60", "srv_requests=60"),
    "RL rollouts": ("number", "RL steps", "2", "2", "rl_steps=2"),
}


@pytest.fixture
def browser(web):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=web.FLAGS)
        yield chromium
        chromium.close()


def _page(browser, width: int = 1440):
    page = browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True).new_page()
    page.set_default_timeout(120_000)
    return page


def _idle(page) -> None:
    page.wait_for_selector("[data-testid='stMetricValue']")
    page.wait_for_selector(IDLE)


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_function(f"""() => [...document.querySelectorAll("[role='tab']")].some(
        t => t.innerText.trim() === {name!r} && t.getAttribute('aria-selected') === 'true')""")
    page.wait_for_selector(IDLE)


def _widget(page, kind: str, label: str):
    testid = "stSelectbox" if kind == "select" else "stNumberInput"
    return page.locator(f"[data-testid='{testid}']").filter(has=page.get_by_text(label, exact=True)).first


def _set(page, kind: str, label: str, value: str) -> None:
    widget = _widget(page, kind, label)
    if kind == "select":
        widget.get_by_role("combobox").click()
        page.get_by_role("option", name=value, exact=True).click()
    else:
        box = widget.locator("input")
        box.fill(value)
        box.press("Enter")
    page.wait_for_selector(IDLE)


def _expect_value(locator, shown: str, exact: bool = True) -> None:
    """Wait (Playwright's retrying assertion) until an input shows `shown` (or contains it): a
    rerun that syncs state from the URL may still be repainting the widget when the app first
    reports idle."""
    from playwright.sync_api import expect

    expect(locator).to_have_value(shown if exact else re.compile(re.escape(shown)), timeout=120_000)


def _expect_widget(page, kind: str, label: str, shown: str) -> None:
    """A number input holds exactly `shown`; a selectbox's combobox holds the shown option."""
    _expect_value(_widget(page, kind, label).locator("input"), shown, exact=kind == "number")


def _set_batch(page, value: str) -> None:
    box = page.get_by_label("Batch (sequences)")
    box.fill(value)
    box.press("Enter")
    _expect_value(box, value)
    page.wait_for_function(f"document.body.innerText.includes('· batch {value} ·')")
    page.wait_for_selector(IDLE)


def test_every_tab_keeps_its_control_across_tabs_and_a_reloaded_link(browser, server, web):
    page = _page(browser)
    page.goto(server)
    _idle(page)
    _set_batch(page, "4")
    for tab, (kind, label, value, _, _) in CONTROLS.items():
        _open_tab(page, tab)
        _set(page, kind, label, value)
    for tab, (kind, label, _, shown, _) in CONTROLS.items():  # back to each tab: value kept
        _open_tab(page, tab)
        _expect_widget(page, kind, label, shown)
    link = page.url
    for tab, (*_, param) in CONTROLS.items():
        assert param in link, (tab, link)
    headline = web.metrics(page)

    fresh = _page(browser)
    fresh.goto(link)
    _idle(fresh)
    _expect_value(fresh.get_by_label("Batch (sequences)"), "4")
    for tab, (kind, label, _, shown, _) in CONTROLS.items():
        _open_tab(fresh, tab)
        _expect_widget(fresh, kind, label, shown)
    _open_tab(fresh, "Overview")
    again = web.metrics(fresh)
    assert {k: again[k] for k in web.HEADLINE} == {k: headline[k] for k in web.HEADLINE}


def test_pinned_baseline_shows_the_deltas_of_perfsim_compare(browser, server, web):
    page = _page(browser)
    page.goto(server)
    _idle(page)
    page.get_by_role("button", name="Pin as baseline").click()
    page.wait_for_function("document.body.innerText.includes('Baseline: ')")
    page.wait_for_selector(IDLE)
    model = page.get_by_role("combobox", name="Model", exact=True)
    model.click()
    model.fill("llama-3.1-8b")
    page.get_by_role("option", name="llama-3.1-8b", exact=True).click()
    page.wait_for_function("document.body.innerText.includes('llama-3.1-8b on h100-sxm')")
    deltas = web.deltas(page, ("TTFT", "TPOT"))
    table = perfsim.compare("qwen3-8b", "llama-3.1-8b", "h100-sxm", prompt_len=1024, output_len=256)
    ratio = table.set_index("metric")["variant_over_base"]
    assert deltas["TTFT"].strip() == f"{(ratio['TTFT at batch 1'] - 1) * 100:+,.1f} % vs baseline"
    assert deltas["TPOT"].strip() == f"{(ratio['TPOT at batch 1'] - 1) * 100:+,.1f} % vs baseline"
    assert "base=" in page.url


def test_json_export_reimports_to_the_same_state(browser, server, web, tmp_path):
    page = _page(browser)
    page.goto(f"{server}/?batch=3&model=qwen3-1.7b&srv_requests=40&tab=Serving")
    _idle(page)
    headline = web.metrics(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download what-if (JSON)").click()
    path = tmp_path / "whatif.json"
    download.value.save_as(path)
    data = json.loads(path.read_text())
    assert data["perfsim_version"] == perfsim.__version__ and data["inputs"]["batch"] == 3
    assert data["tabs"]["serving"]["summary"] and data["provenance"]["device"]

    fresh = _page(browser)
    fresh.goto(server)
    _idle(fresh)
    fresh.get_by_text("Open a saved what-if (JSON)").click()
    fresh.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    fresh.wait_for_function("document.body.innerText.includes('qwen3-1.7b on h100-sxm · batch 3')")
    fresh.wait_for_selector(IDLE)
    _expect_value(fresh.get_by_label("Batch (sequences)"), "3")
    again = web.metrics(fresh)
    assert {k: again[k] for k in web.HEADLINE} == {k: headline[k] for k in web.HEADLINE}
    _open_tab(fresh, "Serving")
    _expect_widget(fresh, "number", "Requests", "40")


@pytest.mark.skipif(not os.environ.get("PERFSIM_SCREENSHOTS"),
                    reason="set PERFSIM_SCREENSHOTS=docs/dashboard")
@pytest.mark.parametrize("width", [1280, 1920])
def test_screenshots_of_every_tab(browser, server, web, width):
    out = Path(os.environ["PERFSIM_SCREENSHOTS"])
    out.mkdir(parents=True, exist_ok=True)
    page = _page(browser, width)
    page.goto(f"{server}/?model=nemotron-h-8b&batch=8")
    _idle(page)
    for tab in ("Overview", "Roofline", "Breakdown", "Frontier", "Sweep", "Decoding", "Serving",
                "RL rollouts"):
        _open_tab(page, tab)
        page.wait_for_selector(".perfsim-memory" if tab == "Overview" else ".js-plotly-plot .main-svg")
        page.mouse.move(0, 0)
        shot = out / f"{tab.lower().replace(' ', '-')}-{width}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
