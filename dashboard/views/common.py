"""Helpers every page uses: the 'fix the sidebar first' notice and chart rendering."""

from __future__ import annotations

from typing import TypeGuard

import plotly.graph_objects as go
import streamlit as st

from perfsim.dashboard.sidebar import ReadySetup, Setup, is_ready

_PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "svg"}}


def ready(setup: Setup) -> TypeGuard[ReadySetup]:
    """False (with a notice) while the sidebar has problems: pages compute nothing then."""
    if is_ready(setup):
        return True
    st.info("Fix the inputs marked in the sidebar to see this page: "
            + " ".join(setup.errors.values()))
    return False


def chart(fig: go.Figure, key: str) -> None:
    """A plotly chart with a stable key (so its zoom survives reruns)."""
    st.plotly_chart(fig, key=key, config=_PLOTLY_CONFIG)
