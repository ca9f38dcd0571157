"""Sidebar widgets with stable keys, preset-dependent defaults and URL mirroring.

Every what-if input lives in `st.session_state` under a short key that is also its URL query
parameter, so a what-if is shared by copying the address. Values that equal their default are
left out of the URL to keep links short. Defaults may depend on a preset (a model's depth, a
device's bandwidth): when the preset changes, its dependent fields reset to the new defaults.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import streamlit as st

from perfsim.dashboard import urlparams

_RESTORED = "_url_restored"


def restore_from_url(query: Mapping[str, str], kinds: Mapping[str, type]) -> list[str]:
    """Copy known query parameters into session state once per session (before any widget
    exists); returns a sentence per parameter that could not be read."""
    return urlparams.restore_once(query, kinds, _RESTORED, st.session_state.__setitem__)


class Form:
    """Creates widgets in `container`, remembers each key's value and default, and collects the
    messages shown next to fields."""

    def __init__(self, container) -> None:
        self.box = container
        self.values: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.notes: list[str] = []

    @contextmanager
    def inside(self, container) -> Iterator[None]:
        """Create the next widgets inside `container` (an expander or column of the sidebar)."""
        outer, self.box = self.box, container
        try:
            yield
        finally:
            self.box = outer

    # --- defaults -------------------------------------------------------------------------
    def bind_defaults(self, group: str, identity: str, defaults: Mapping[str, Any]) -> None:
        """Fields whose defaults come from a preset: reset them when the preset (`identity`)
        changes; on the first run keep values restored from the URL."""
        state = st.session_state
        marker = f"_defaults_for_{group}"
        first = marker not in state
        changed = not first and state[marker] != identity
        for key, value in defaults.items():
            if changed or key not in state:
                state[key] = value
        state[marker] = identity
        self.defaults.update(defaults)

    def _init(self, key: str, default: Any, valid: Callable[[Any], bool]) -> None:
        state = st.session_state
        self.defaults.setdefault(key, default)
        default = self.defaults[key]
        if key in state and not valid(state[key]):
            self.notes.append(f"Value {state[key]!r} for {key} is not allowed here; using {default!r}.")
            state[key] = default
        state.setdefault(key, default)

    def _keep(self, key: str, value: Any, url: bool) -> Any:
        if url:
            self.values[key] = value
        return value

    # --- widgets --------------------------------------------------------------------------
    def select(self, label: str, options: Sequence, key: str, default, *, url: bool = True,
               format_func: Callable[[Any], str] = str, help: str | None = None):
        """A selectbox; a remembered value that is no longer an option falls back to the default."""
        self.labels[key] = label
        self._init(key, default, lambda v: v in options)
        value = self.box.selectbox(label, list(options), key=key, format_func=format_func, help=help)
        return self._keep(key, value, url)

    def number(self, label: str, key: str, default, *, min_value, max_value=None, step=None,
               fmt: str | None = None, help: str | None = None, url: bool = True, whole: bool = False):
        """A number input; `default` None means the preset-bound default (`bind_defaults`).

        The widget itself has no bounds and holds floats: a value out of range, or a fraction in a
        whole-number field, reaches Python and gets one sentence under the field instead of being
        clamped or rounded by the browser. Returns the value (an int when `whole`), or None when
        it is not valid."""
        self.labels[key] = label
        self._init(key, default, lambda v: not isinstance(v, bool) and isinstance(v, int | float)
                   and math.isfinite(v))
        state = st.session_state
        if isinstance(state[key], int):
            state[key] = float(state[key])  # one widget type for restored, default and typed values
        value = self.box.number_input(label, step=float(step or 1), format=fmt or "%.10g", key=key, help=help)
        self._keep(key, value, url)
        name = label.split(" (")[0]
        if value is None:
            self.error(key, f"{name} is required.")
            return None
        if whole and not float(value).is_integer():
            self.error(key, f"{name} must be a whole number (got {value:g}).")
            return None
        if value < min_value or (max_value is not None and value > max_value):
            bound = f"at least {min_value:,}" if value < min_value else f"at most {max_value:,}"
            self.error(key, f"{name} must be {bound} (got {value:,g}).")
            return None
        return int(value) if whole else float(value)

    def slider(self, label: str, key: str, default, *, min_value, max_value, step, help: str | None = None,
               url: bool = True):
        """A slider over [min_value, max_value]."""
        self._init(key, default, lambda v: isinstance(v, int | float) and min_value <= v <= max_value)
        value = self.box.slider(label, min_value=min_value, max_value=max_value, step=step, key=key,
                                help=help)
        return self._keep(key, value, url)

    def checkbox(self, label: str, key: str, default: bool, *, disabled: bool = False,
                 help: str | None = None, url: bool = True) -> bool:
        """A checkbox (disabled when the choice does not apply, e.g. no calibration to use)."""
        self._init(key, default, lambda v: isinstance(v, bool))
        value = self.box.checkbox(label, key=key, disabled=disabled, help=help)
        return self._keep(key, value, url)

    def error(self, key: str, message: str) -> None:
        """Show `message` right under the field just created, and remember it."""
        self.errors.setdefault(key, message)
        self.box.error(message)

    # --- URL ------------------------------------------------------------------------------
    def url_params(self) -> dict[str, str]:
        """Query parameters for every value that differs from its default."""
        return {k: urlparams.spell(v) for k, v in self.values.items() if v != self.defaults.get(k)}

    def mirror_to_url(self, kinds: Mapping[str, type]) -> None:
        """Write the what-if into the URL, touching only the keys in `kinds` (parameters bound
        by Streamlit itself, like the active tab, must be left alone)."""
        urlparams.write(self.url_params(), kinds, lambda _key: True)
