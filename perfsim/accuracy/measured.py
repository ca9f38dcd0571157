"""Measured accuracy: published benchmark scores carried by the model description, used as-is.

Source of every number: the `accuracy.source` block of the model YAML (see models/*.yaml).
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
from perfsim.spec.model import ModelSpec


@register_accuracy("measured")
@dataclass(frozen=True)
class Measured(AccuracyModel):
    """The published `benchmark` score of a known model; None for models without one."""

    benchmark: str = DEFAULT_BENCHMARK

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        block = model.accuracy
        if block is None or self.benchmark not in block.scores:
            return None
        return AccuracyEstimate(block.scores[self.benchmark], f"measured: {block.source.url}")


@register_accuracy("default")
@dataclass(frozen=True)
class MeasuredThenScalingLaw(AccuracyModel):
    """Published score when the model has one, else the scaling-law prediction of the same
    benchmark (so known models sit at their measured points and new designs are predicted)."""

    benchmark: str = DEFAULT_BENCHMARK
    scaling_law: dict = field(default_factory=dict)

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        found = Measured(self.benchmark).estimate(model)
        if found is not None:
            return found
        return create_accuracy("scaling_law", benchmark=self.benchmark, **self.scaling_law).estimate(model)
