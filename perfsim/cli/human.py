"""Numbers as a person reads them in a terminal table: `87.1 ms`, `16.4 GB`, `555 tok/s`, `8.19 B`.

Only the table format uses these; JSON and CSV keep the raw SI values (seconds, bytes) so that a
script never parses units. The unit comes from the column's name, which follows the package's
naming rule (`latency_s`, `memory_bytes`, `tokens_per_s`, `params`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

_DECIMAL = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_RATE_NOUNS = {"tokens": "tok/s", "requests": "req/s", "rollouts": "rollouts/s", "flops": "FLOP/s"}


def number(value: float, digits: int = 3) -> str:
    """`digits` significant figures, thousands separators, no exponent below 1e15."""
    if value == 0 or not math.isfinite(value):
        return str(value) if not math.isfinite(value) else "0"
    if abs(value) >= 1e15 or abs(value) < 1e-4:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def seconds(value: float) -> str:
    """`12.3 µs`, `87.1 ms`, `1.84 s`, `2.5 h`."""
    size = abs(value)
    if size == 0:
        return "0 s"
    for limit, scale, unit in ((1e-3, 1e6, "µs"), (1.0, 1e3, "ms"), (600.0, 1.0, "s"),
                               (36_000.0, 1 / 60, "min")):
        if size < limit:
            return f"{number(value * scale)} {unit}"
    return f"{number(value / 3600)} h"


def scaled(value: float, unit: str) -> str:
    """Decimal prefixes (k, M, G, T) as storage and datasheets use them: 16.4 GB, 3.35 TB/s."""
    for factor, prefix in _DECIMAL:
        if abs(value) >= factor:
            return f"{number(value / factor)} {prefix}{unit}"
    return f"{number(value)} {unit}".rstrip()


def count(value: float) -> str:
    """Large counts with a word-free suffix: 8.19 B params, 1.2 M, 532."""
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= factor:
            return f"{number(value / factor)} {suffix}"
    return f"{value:,}" if isinstance(value, Integral) else number(value)


def cell(value: Any, name: str = "") -> str:  # noqa: PLR0911 -- one return per unit
    """One table cell: `value` with the unit its column `name` implies; NaN is "—" (not applicable)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    value = value if isinstance(value, Integral) else float(value)
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if not math.isfinite(value):
        return str(value)
    name = name.lower()
    if name.endswith("_per_s"):
        noun = name.removesuffix("_per_s").split("_")[-1]
        unit = _RATE_NOUNS.get(noun, "B/s" if "bytes" in name else "/s")
        return scaled(value, unit) if unit == "B/s" else f"{number(value)} {unit}"
    if name.endswith("_s") or name.endswith("_seconds"):
        return seconds(value)
    if "bytes" in name:
        return scaled(value, "B")
    if name.endswith("params"):
        return count(value)
    if isinstance(value, Integral):
        return f"{value:,}"
    return number(value, 4)
