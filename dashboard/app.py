"""perfsim what-if dashboard: `perfsim dashboard` or `streamlit run dashboard/app.py`.

A thin layer: the sidebar builds one validated what-if (every input mirrored to the URL), the
headline shows it (with deltas against a pinned baseline), each tab renders it through the perfsim
library (dashboard/views/*), and the sidebar ends with the exports.
"""

from __future__ import annotations

import importlib

import streamlit as st
import yaml

from perfsim.dashboard import baseline, export, tabstate
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.sidebar import KINDS, sidebar
from perfsim.dashboard.views import overview

#: Tab title -> view module (perfsim.dashboard.views.<name>), imported only when the tab opens so a
#: cold start pays for the Overview alone.
TABS = {"Overview": "overview", "Roofline": "roofline", "Breakdown": "breakdown", "Frontier": "frontier",
        "Sweep": "sweep", "Decoding": "decoding", "Serving": "serving", "RL rollouts": "rollouts"}
#: Views that draw the pinned baseline next to the what-if.
COMPARING = ("overview", "breakdown", "frontier")


def reopen() -> None:
    """'Open a what-if (JSON)': restore every input from an export (before any widget exists)."""
    box = st.sidebar.expander("Open a saved what-if (JSON)")
    upload = box.file_uploader("What-if file", type=["json"], key="open_whatif",
                               help="a file saved with 'Download what-if (JSON)'")
    if upload is not None and (problem := export.apply_import(upload.getvalue(), KINDS)):
        box.error(problem)


def downloads(setup: Setup, result) -> None:
    """Every input, provenance and every tab's data as JSON (built on click), and the (edited)
    model as a perfsim YAML that can be uploaded again or used with the CLI."""
    box = st.sidebar
    box.subheader("Share and export")
    box.caption("The address bar holds this what-if (uploads and the baseline included): copy it to share.")
    state = dict(tabstate.values())
    values = export.inputs({**st.session_state.to_dict(), **state}, KINDS,
                           st.query_params.get(baseline.URL_KEY))
    box.download_button("Download what-if (JSON)", lambda: export.payload(setup, result, values, state),
                        file_name="perfsim-whatif.json", mime="application/json", key="download_whatif",
                        help="every input, provenance, the perfsim version and every tab's data")
    if setup.model is not None:
        text = yaml.safe_dump(setup.model.model_dump(mode="json", exclude_none=True), sort_keys=False)
        box.download_button("Download model (perfsim YAML)", text,
                            file_name=f"{export.shell_safe(setup.model.id)}.yaml", mime="application/x-yaml",
                            key="download_model")


def main() -> None:
    """Sidebar -> headline metrics -> the open tab -> exports (tabs are lazy: only the one on
    screen computes, so editing a field stays fast)."""
    # no page_icon: any string icon makes Streamlit compile its emoji table (~0.2 s of a cold start)
    st.set_page_config(page_title="perfsim what-if", layout="wide")
    reopen()
    for note in tabstate.restore_from_url(st.query_params.to_dict()):
        st.sidebar.warning(note)
    setup, _ = sidebar()
    base: ReadySetup | None = baseline.controls(setup)
    st.title("perfsim what-if")
    if setup.ok and setup.model is not None and setup.hardware is not None:
        st.caption(f"**{setup.model.id}** on **{setup.hardware.id}** · batch {setup.batch} · prompt "
                   f"{setup.prompt_len:,} → output {setup.output_len:,} tokens · {setup.deploy.describe()} · "
                   f"{setup.decoding.describe() if setup.decoding else ''}"
                   + (f" · baseline: {baseline.describe(base)}" if base is not None else ""))
    result = overview.headline(setup, base)
    tabs = st.tabs(list(TABS), key="tab", on_change="rerun", bind="query-params")
    for tab, name in zip(tabs, TABS.values(), strict=True):
        if tab.open:  # lazy tabs: only the page on screen imports and computes
            view = importlib.import_module(f"perfsim.dashboard.views.{name}")
            with tab:
                if name == "overview":
                    view.render(setup, result, base)
                else:
                    view.render(setup, base) if name in COMPARING else view.render(setup)
    tabstate.mirror_to_url()
    downloads(setup, result)


main()
