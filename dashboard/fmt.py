"""Number formatting with units that scale, shared by metrics, tables, captions and hover text."""

from __future__ import annotations

import math

#: (threshold in seconds, unit, scale): the first unit whose threshold the value reaches.
_TIME_UNITS = ((1.0, "s", 1.0), (1e-3, "ms", 1e3), (0.0, "µs", 1e6))


def _round(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0))  # 1,235 stays whole


def _sig(value: float, digits: int = 3) -> str:
    """`digits` significant digits with thousands separators, never scientific notation."""
    value = _round(value, digits)
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)
    return f"{value:,.{decimals}f}"


def duration(seconds: float, digits: int = 3) -> str:
    """Seconds, milliseconds or microseconds, whichever keeps 1-999 in front of the unit (judged
    after rounding, so 0.99999 s reads '1.00 s', not '1,000 ms')."""
    if not math.isfinite(seconds):
        return "—"
    for threshold, unit, scale in _TIME_UNITS:
        if abs(_round(seconds * scale, digits)) >= 1.0 or threshold == 0.0:
            return f"{_sig(seconds * scale, digits)} {unit}"
    return f"{_sig(seconds * 1e6, digits)} µs"


def headline_time(seconds: float) -> str:
    """A headline latency: `duration` with four significant digits (deltas are shown beside it)."""
    return duration(seconds, 4)


def secs(seconds: float) -> str:
    """Seconds with three decimals, for end-to-end and RL step times."""
    return f"{seconds:,.3f} s"


def tok_s(rate: float) -> str:
    """Tokens per second; one decimal only where it matters (below 100)."""
    return f"{rate:,.1f} tok/s" if rate < 100 else f"{rate:,.0f} tok/s"


def gb(num_bytes: float) -> str:
    """Decimal gigabytes, the unit of the library's own memory sentences."""
    return f"{num_bytes / 1e9:,.2f} GB"


def size(num_bytes: float) -> str:
    """Bytes in kB, MB, GB or TB, whichever keeps 1-999 in front of the unit (decimal units)."""
    for scale, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(num_bytes) >= scale:
            return f"{_sig(num_bytes / scale)} {unit}"
    return f"{num_bytes:,.0f} B"


def params(count: float) -> str:
    """Parameter counts in billions (B), or millions (M) for small models."""
    return f"{count / 1e9:,.2f} B" if count >= 1e9 else f"{count / 1e6:,.1f} M"


def per_s(rate: float) -> str:
    """A rate per second with three significant digits ('—' when undefined)."""
    return f"{_sig(rate)}/s" if math.isfinite(rate) else "—"


def number(value: float) -> str:
    """A plain number: integers with separators, others to three significant digits."""
    if isinstance(value, bool):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return _sig(float(value))


def quantity(key: str, value) -> str:
    """A library summary value by its key's unit suffix (_s, _bytes, _tok_s, ...)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if key.endswith("_tok_s"):
        return tok_s(value)
    if key.endswith("_per_s"):
        return per_s(value)
    if key.endswith("_s"):
        return duration(value)
    if key.endswith("_bytes"):
        return size(value)
    if key.endswith(("_fraction", "_share")):
        return f"{value * 100:,.1f} %"
    return number(value)


def label(key: str) -> str:
    """A library key as words: 'ttft_p50_s' -> 'TTFT p50', 'throughput_tok_s' -> 'throughput'."""
    words = key
    for suffix in ("_tok_s", "_per_s", "_s", "_bytes", "_fraction"):
        if words.endswith(suffix):
            words = words[: -len(suffix)]
            break
    acronyms = {"ttft": "TTFT", "tpot": "TPOT", "e2e": "end-to-end", "kv": "KV", "itl": "ITL"}
    return " ".join(acronyms.get(w, w) for w in words.split("_"))
