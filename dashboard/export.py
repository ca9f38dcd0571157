"""The JSON export (every input, provenance, version and every tab's data) and its re-import.

Tabs compute lazily, so the export is built only when the download is clicked: the control
values are snapshotted in the script run and each tab's `export(setup, state)` recomputes its
data from them (cached, so usually instant). Re-importing the file restores every input.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import streamlit as st

import perfsim
from perfsim.dashboard import provenance, tabstate
from perfsim.dashboard.setup import Setup, is_ready
from perfsim.dashboard.uploads import digest

FORMAT = "perfsim-whatif/1"
#: Export section -> view module with an `export(setup, state)` (imported on export only).
TABS = {"breakdown": "breakdown", "sweep": "sweep", "frontier": "frontier", "serving": "serving",
        "decoding": "decoding", "rl_rollouts": "rollouts"}
_APPLIED = "_imported_digest"


def shell_safe(name: str) -> str:
    """A file name without brackets, %, commas or spaces: 'qwen3-8b[50%mamba2]' -> 'qwen3-8b_50pct-mamba2'."""
    name = name.replace("%", "pct-")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "model"


def _clean(value):
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def inputs(state: Mapping, kinds: Mapping[str, type], baseline: str | None = None) -> dict:
    """Every input: the sidebar's widget values, each tab's control values and the pinned baseline."""
    out = {k: state[k] for k in kinds if k in state}
    out.update({k: state[k] for k in tabstate.KINDS if k in state})
    if baseline:
        out["base"] = baseline
    return _clean(out)


def payload(setup: Setup, result: perfsim.RequestResult | None, values: dict, state: Mapping) -> str:
    """The export as JSON text: `values` from `inputs`, `state` a snapshot of the tab controls
    (computes every tab; a tab that cannot compute records its sentence)."""
    data: dict = {"format": FORMAT, "perfsim_version": perfsim.__version__,
                  "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "inputs": values, "errors": setup.errors}
    if is_ready(setup):
        data["what_if"] = {"model": setup.model.id, "hardware": setup.hardware.id, "batch": setup.batch,
                           "prompt_len": setup.prompt_len, "output_len": setup.output_len,
                           "decoding": setup.decoding.describe(), "deployment": setup.deploy.describe()}
        data["provenance"] = provenance.summary(setup)
        data["results"] = result.to_dict() if result is not None else None
        tabs = {}
        for name, module in TABS.items():
            build: Callable[..., dict] = importlib.import_module(f"perfsim.dashboard.views.{module}").export
            try:
                tabs[name] = build(setup, state)
            except perfsim.PerfsimInputError as exc:
                tabs[name] = {"error": str(exc)}
        data["tabs"] = tabs
    return json.dumps(_clean(data), indent=1, allow_nan=False)


def apply_import(data: bytes, kinds: Mapping[str, type]) -> str | None:
    """Copy an exported file's inputs into session state (once per file; call before any widget
    exists); returns a sentence when the file is not a perfsim export."""
    state = st.session_state
    key = digest(data)
    if state.get(_APPLIED) == key:
        return None
    state[_APPLIED] = key
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "The file is not JSON; open a file saved with 'Download what-if (JSON)'."
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("inputs"), dict):
        return f"The file is not a perfsim what-if export (expected format {FORMAT!r})."
    for name, value in doc["inputs"].items():
        if name == "base":
            st.query_params["base"] = value
            state.pop("_baseline", None)  # re-read from the URL
        elif name in kinds:
            state[name] = value
        elif name in tabstate.KINDS:
            tabstate.put(name, tuple(value) if tabstate.KINDS[name] is tuple else value)
    return None
