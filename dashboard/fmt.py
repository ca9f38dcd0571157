"""Number formatting with units, shared by metrics, captions and hover text."""

from __future__ import annotations

import math


def ms(seconds: float) -> str:
    """Milliseconds with two decimals: TTFT and TPOT live between 0.1 ms and seconds."""
    return f"{seconds * 1e3:,.2f} ms"


def secs(seconds: float) -> str:
    """Seconds with three decimals, for end-to-end and RL step times."""
    return f"{seconds:,.3f} s"


def tok_s(rate: float) -> str:
    """Tokens per second; one decimal only where it matters (below 100)."""
    return f"{rate:,.1f} tok/s" if rate < 100 else f"{rate:,.0f} tok/s"


def gb(num_bytes: float) -> str:
    """Decimal gigabytes, the unit of the library's own memory sentences."""
    return f"{num_bytes / 1e9:,.2f} GB"


def params(count: float) -> str:
    """Parameter counts in billions (B), or millions (M) for small models."""
    return f"{count / 1e9:,.2f} B" if count >= 1e9 else f"{count / 1e6:,.1f} M"


def per_s(rate: float) -> str:
    """A rate per second with three significant digits ('—' when undefined)."""
    return f"{rate:,.3g}/s" if math.isfinite(rate) else "—"
