"""Measured accuracy: published benchmark scores, used as-is.

Where a number comes from: the bundled table perfsim/accuracy/data/published_scores.yaml (one row
per model and named benchmark, with its source), else the `accuracy` block of the model YAML (a
user's own model). The table wins for a bundled id, so every model on one benchmark is read from
one evaluation protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perfsim.accuracy.base import (
    DEFAULT_BENCHMARK,
    AccuracyEstimate,
    AccuracyModel,
    create_accuracy,
    register_accuracy,
)
from perfsim.accuracy.published import load_published_scores
from perfsim.spec.model import ModelSpec


@register_accuracy("measured")
@dataclass(frozen=True)
class Measured(AccuracyModel):
    """The published `benchmark` score of a known model; None for models without one."""

    benchmark: str = DEFAULT_BENCHMARK

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        row = load_published_scores().score(model.id, self.benchmark)
        if row is not None:
            return AccuracyEstimate(row.score, f"measured: {row.source.url}", kind="measured",
                                    benchmark=self.benchmark)
        block = model.accuracy
        if block is None or self.benchmark not in block.scores:
            return None
        return AccuracyEstimate(block.scores[self.benchmark], f"measured: {block.source.url}",
                                kind="measured", benchmark=self.benchmark)


@register_accuracy("default")
@dataclass(frozen=True)
class MeasuredThenScalingLaw(AccuracyModel):
    """Published score when the model has one, else the scaling-law proxy of the same benchmark
    (so known models sit at their measured points and new designs are predicted, marked `proxy`)."""

    benchmark: str = DEFAULT_BENCHMARK
    scaling_law: dict = field(default_factory=dict)

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        found = Measured(self.benchmark).estimate(model)
        if found is not None:
            return found
        return create_accuracy("scaling_law", benchmark=self.benchmark, **self.scaling_law).estimate(model)
