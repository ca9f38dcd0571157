"""Helpers every page uses: the 'fix the sidebar first' notice, charts and CSV downloads."""

from __future__ import annotations

from typing import TypeGuard

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from perfsim.dashboard.setup import ReadySetup, Setup, is_ready

_PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "svg"}}


def fields_to_fix(setup: Setup) -> str:
    """The labels of the fields with a problem (their sentences stay under the fields, once)."""
    names = [setup.labels.get(key, key).split(" (")[0] for key in setup.errors]
    return ", ".join(dict.fromkeys(names)) or "the sidebar"


def ready(setup: Setup) -> TypeGuard[ReadySetup]:
    """False (with a one-line notice) while the sidebar has problems: pages compute nothing then."""
    if is_ready(setup):
        return True
    st.info(f"This page needs valid inputs; fix {fields_to_fix(setup)} in the sidebar.")
    return False


def chart(fig: go.Figure, key: str) -> None:
    """A plotly chart with a stable key (so its zoom survives reruns)."""
    st.plotly_chart(fig, key=key, config=_PLOTLY_CONFIG)


def csv_button(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """The tab's table as CSV (SI units in the column names, full precision)."""
    st.download_button(f"Download {file_name.removeprefix('perfsim-').removesuffix('.csv')} (CSV)",
                       frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=f"csv_{key}")
