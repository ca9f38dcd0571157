"""Control values <-> URL query parameters, for the sidebar form and the tab controls alike.

A what-if is shared by copying the address, so every control reads its value back from the link
once per session (before any widget exists) and writes it to the link on every run when it
differs from its default. One spelling per value type, so a link reads back to the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import streamlit as st

#: How a URL problem names the expected type.
NOUNS = {int: "whole number", float: "number", bool: "true or false", str: "text",
         list: "comma-separated list", tuple: "range such as 1-64"}


def parse(text: str, kind: type) -> Any:
    """The value a URL parameter spells (ValueError when it spells none of `kind`)."""
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if kind is list:
        return [part for part in text.split(",") if part]
    if kind is tuple:
        low, high = text.split("-")
        return int(low), int(high)
    return kind(text)


def spell(value: Any) -> str:
    """The URL spelling of a control value (`parse` reads it back)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, tuple):
        return f"{value[0]}-{value[1]}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(round(value, 9))
    return str(value)


def restore_once(query: Mapping[str, str], kinds: Mapping[str, type], flag: str,
                 put: Callable[[str, Any], None]) -> list[str]:
    """Hand every known parameter of the link to `put`, once per session (`flag` marks it done);
    a sentence per parameter that cannot be read."""
    if st.session_state.get(flag):
        return []
    st.session_state[flag] = True
    problems = []
    for key, text in query.items():
        if key in kinds:
            try:
                put(key, parse(text, kinds[key]))
            except ValueError:
                problems.append(f"URL parameter {key}={text!r} is not a {NOUNS[kinds[key]]}; ignored.")
    return problems


def write(wanted: Mapping[str, str], keys: Iterable[str], droppable: Callable[[str], bool]) -> None:
    """Set each of `keys` in the URL to its wanted spelling, or drop it when not wanted and
    `droppable` (parameters Streamlit binds itself, like the open tab, are never in `keys`)."""
    query = st.query_params
    for key in keys:
        if key in wanted:
            if query.get(key) != wanted[key]:
                query[key] = wanted[key]
        elif key in query and droppable(key):
            del query[key]
