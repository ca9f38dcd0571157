"""User accuracy: any callable of a ModelSpec, or a CSV table `design,accuracy[,source]`."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfsim.accuracy.base import AccuracyEstimate, AccuracyModel, register_accuracy
from perfsim.errors import PerfsimInputError
from perfsim.spec.model import ModelSpec


def read_accuracy_table(path: str | os.PathLike) -> dict[str, tuple[float, str]]:
    """design id -> (accuracy %, source) from a CSV with columns design, accuracy[, source]."""
    path = Path(path)
    if not path.is_file():
        raise PerfsimInputError(f"{path}: accuracy table not found.")
    table = pd.read_csv(path)
    missing = {"design", "accuracy"} - set(table.columns)
    if missing:
        raise PerfsimInputError(
            f"{path}: needs columns design and accuracy (missing {', '.join(sorted(missing))})."
        )
    scores = pd.to_numeric(table["accuracy"], errors="coerce")
    if scores.isna().any() or not scores.between(0, 100).all():
        raise PerfsimInputError(f"{path}: column 'accuracy' must hold numbers in 0..100.")
    sources = (
        table["source"].astype(str) if "source" in table.columns else [f"user: {path.name}"] * len(table)
    )
    return {str(d): (float(s), src) for d, s, src in zip(table["design"], scores, sources, strict=True)}


@register_accuracy("user")
@dataclass(frozen=True)
class UserAccuracy(AccuracyModel):
    """`fn(model) -> float | (float, source) | None`, or a table looked up by model id."""

    fn: Callable | None = None
    table: str | os.PathLike | None = None
    _rows: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.fn is None) == (self.table is None):
            raise PerfsimInputError(
                "user accuracy needs exactly one of fn (a callable) or table (a CSV path)."
            )
        if self.table is not None:
            self._rows.update(read_accuracy_table(self.table))

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        if self.fn is None:
            row = self._rows.get(model.id)
            return None if row is None else AccuracyEstimate(row[0], row[1])
        value = self.fn(model)
        if value is None:
            return None
        score, source = value if isinstance(value, tuple) else (value, "user")
        if not isinstance(score, int | float) or math.isnan(score):
            raise PerfsimInputError(
                f"user accuracy function returned {score!r} for {model.id}; expected a number."
            )
        return AccuracyEstimate(float(score), source)
