"""perfsim what-if dashboard: `perfsim dashboard` or `streamlit run dashboard/app.py`.

A thin layer: the sidebar builds one validated what-if, each tab renders it through the perfsim
library (dashboard/views/*), and the sidebar ends with downloads of the configuration and results.
"""

from __future__ import annotations

import streamlit as st
import yaml

from perfsim.dashboard.sidebar import Setup, payload, sidebar
from perfsim.dashboard.views import (
    breakdown,
    decoding,
    frontier,
    overview,
    rollouts,
    roofline,
    serving,
    sweep,
)

TABS = ("Overview", "Roofline", "Breakdown", "Frontier", "Sweep", "Decoding", "Serving", "RL rollouts")


def downloads(setup: Setup, result) -> None:
    """The current configuration and its headline results as JSON, and the (edited) model as a
    perfsim YAML that can be uploaded again or used with the CLI."""
    box = st.sidebar
    box.subheader("Share")
    box.caption("The address bar holds this what-if (uploaded files excepted): copy it to share.")
    box.download_button("Download configuration + results (JSON)", payload(setup, result),
                        file_name="perfsim-whatif.json", mime="application/json", key="download_whatif")
    if setup.model is not None:
        text = yaml.safe_dump(setup.model.model_dump(mode="json", exclude_none=True), sort_keys=False)
        box.download_button("Download model (perfsim YAML)", text, file_name=f"{setup.model.id}.yaml",
                            mime="application/x-yaml", key="download_model")


def main() -> None:
    """Sidebar -> headline metrics -> the open tab -> downloads (tabs are lazy: only the one on
    screen computes, so editing a field stays fast)."""
    st.set_page_config(page_title="perfsim what-if", page_icon="⏱️", layout="wide")
    setup, _ = sidebar()
    st.title("perfsim what-if")
    if setup.model is not None and setup.hardware is not None:
        st.caption(f"**{setup.model.id}** on **{setup.hardware.id}** · batch {setup.batch} · prompt "
                   f"{setup.prompt_len:,} → output {setup.output_len:,} tokens · "
                   f"{setup.decoding.describe() if setup.decoding else 'decoding: see sidebar'}")
    result = overview.headline(setup)
    tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")
    pages = (lambda: overview.render(setup, result), lambda: roofline.render(setup),
             lambda: breakdown.render(setup), lambda: frontier.render(setup), lambda: sweep.render(setup),
             lambda: decoding.render(setup), lambda: serving.render(setup), lambda: rollouts.render(setup))
    for tab, page in zip(tabs, pages, strict=True):
        if tab.open:  # lazy tabs: only the page on screen computes
            with tab:
                page()
    downloads(setup, result)


main()
