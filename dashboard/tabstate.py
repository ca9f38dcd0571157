"""Controls inside tabs: kept for the whole session and mirrored to the URL, even while their tab
is closed.

Tabs render lazily, so a closed tab's widgets do not exist in a run: Streamlit drops their state
(and its own URL binding their parameters; its `persist_state` turns a range slider's pair into a
single number). So every control's value is also kept in a plain session dict (`values()`), put
back before the widget is created again, and `mirror_to_url` writes every control that differs
from its default into the URL on every run, whichever tab is open. A link's parameters are read
back once per session (`restore_from_url`) before any widget exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from perfsim.dashboard import urlparams

#: Tab control key -> the type of its value (how a URL parameter is read back).
KINDS: dict[str, type] = {
    "srv_kind": str, "srv_rate": float, "srv_clients": int, "srv_requests": int, "srv_seed": int,
    "fr_designs": list, "fr_devices": list, "fr_latency": str,
    "sweep_axes": str, "sweep_metric": str, "sweep_batch": tuple, "sweep_context": tuple,
    "cmp_spec_k": int, "cmp_spec_acc": float, "cmp_diff_block": int, "cmp_diff_sub": int,
    "cmp_diff_tps": float,
    "cmp_tidar_draft": int, "cmp_tidar_tpf": float, "cmp_batches": tuple,
    "rl_pipeline": str, "rl_placement": str, "rl_steps": int, "rl_gen_gpus": int, "rl_prompts": int,
    "rl_samples": int, "rl_output": int, "rl_max_output": int, "rl_train_gpus": int, "rl_partial": int,
}
_DEFAULTS = "_tab_defaults"
_VALUES = "_tab_values"
_RESTORED = "_tab_url_restored"


def values() -> dict[str, Any]:
    """The last value of every tab control this session (also of tabs now closed)."""
    return st.session_state.setdefault(_VALUES, {})


def put(key: str, value: Any) -> None:
    """Set a control's value (from a link or a re-imported export) before its widget exists."""
    st.session_state[key] = value
    values()[key] = value


def restore_from_url(query: Mapping[str, str]) -> list[str]:
    """Copy tab-control parameters into session state once per session; a sentence per parameter
    that cannot be read."""
    return urlparams.restore_once(query, KINDS, _RESTORED, put)


def _prepare(key: str, default: Any, valid: Callable[[Any], bool]) -> None:
    """Remember the default (for the URL) and make sure the state holds a value the widget accepts."""
    state = st.session_state
    state.setdefault(_DEFAULTS, {})[key] = default
    if key not in state and key in values():  # its tab was closed: Streamlit dropped the widget state
        state[key] = values()[key]
    if key in state and not valid(state[key]):
        st.warning(f"{key}: {state[key]!r} is not allowed here; using {default!r}.")
        del state[key]
    if key not in state:
        state[key] = default


def _keep(key: str, value: Any) -> Any:
    values()[key] = value
    return value


def select(box, label: str, options: Sequence, key: str, default, **kw):
    _prepare(key, default, lambda v: v in options)
    return _keep(key, box.selectbox(label, list(options), key=key, **kw))


def radio(box, label: str, options: Sequence, key: str, default, **kw):
    _prepare(key, default, lambda v: v in options)
    return _keep(key, box.radio(label, list(options), key=key, **kw))


def multiselect(box, label: str, options: Sequence, key: str, default: list, **kw):
    _prepare(key, list(default), lambda v: isinstance(v, list) and all(x in options for x in v))
    return _keep(key, box.multiselect(label, list(options), key=key, **kw))


def number(box, label: str, key: str, default, low, high, step=None, **kw):
    kind = type(default)

    def valid(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high and (
            kind is float or float(v).is_integer())

    _prepare(key, default, valid)
    st.session_state[key] = kind(st.session_state[key])
    return _keep(key, box.number_input(label, min_value=kind(low), max_value=kind(high), step=kind(step or 1),
                                       key=key, **kw))


def slider(box, label: str, key: str, default: float, low: float, high: float, step: float, **kw):
    _prepare(key, default, lambda v: isinstance(v, int | float) and low <= v <= high)
    return _keep(key, box.slider(label, min_value=low, max_value=high, step=step, key=key, **kw))


def range_slider(box, label: str, options: Sequence[int], key: str, default: tuple[int, int], **kw):
    _prepare(key, default,
             lambda v: isinstance(v, tuple | list) and len(v) == 2 and all(x in options for x in v))
    st.session_state[key] = tuple(st.session_state[key])
    return _keep(key, box.select_slider(label, options=list(options), key=key, **kw))


def mirror_to_url() -> None:
    """Write every tab control that differs from its default into the URL (and drop the others)."""
    current, defaults = values(), st.session_state.get(_DEFAULTS, {})
    wanted = {key: urlparams.spell(current[key]) for key in KINDS
              if key in current and key in defaults and current[key] != defaults[key]}
    urlparams.write(wanted, KINDS, lambda key: key in defaults)
