"""Argument checks for the Python API's front doors (the YAML and CLI boundaries have their own).

A count is an integer (never a bool, a float or a string) in 1..maximum; a rate or size is a real,
finite number in (0, maximum]. Each failure is one PerfsimInputError sentence that names the
argument and the allowed range, so `generate(batch=True)` or `Poisson(rate=inf)` is refused
rather than read as 1 or run forever. The upper bounds come from perfsim.io.limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real

from perfsim.errors import PerfsimInputError


def count(name: str, value, maximum: int, minimum: int = 1) -> int:
    """`value` as an int if it is an integer in minimum..maximum, else one sentence."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not minimum <= int(value) <= maximum:
        raise PerfsimInputError(f"{name} must be an integer from {minimum:,} to {maximum:,} (got {value!r}).")
    return int(value)


def positive(name: str, value, maximum: float) -> float:
    """`value` as a float if it is a finite real number in (0, maximum], else one sentence."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < float(value) <= maximum:
        raise PerfsimInputError(f"{name} must be a number above 0 and at most {maximum:,g} (got {value!r}).")
    return float(value)


def non_negative(name: str, value, maximum: float) -> float:
    """`value` as a float if it is a finite real number in [0, maximum] (a cost in seconds)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= float(value) <= maximum:
        raise PerfsimInputError(f"{name} must be a number from 0 to {maximum:,g} (got {value!r}).")
    return float(value)


def counts(name: str, values: Iterable, maximum: int) -> list[int]:
    """Every element of `values` (a list or array of counts) checked as `count`; never empty."""
    items = list(values.tolist() if hasattr(values, "tolist") else values)
    if not items:
        raise PerfsimInputError(f"{name} must list at least one integer from 1 to {maximum:,} (got none).")
    out = []
    for item in items:
        if isinstance(item, float) and item.is_integer() and math.isfinite(item):
            item = int(item)  # numpy float arrays of whole numbers are fine
        out.append(count(f"every {name} value", item, maximum))
    return out
