"""Accuracy-model protocol, result type and registry.

An accuracy model maps a model description to a benchmark score in percent (the `benchmark` it
predicts, e.g. `nemotron_flash_avg`), or to None when it has no opinion, so models can be chained
(published scores first, then a scaling-law prediction). Decoding strategies adjust the score
separately (each strategy's `relative_accuracy`, applied by `perfsim.accuracy.decoding_quality`),
because quality is a property of the (model, decoding) pair, not of the weights alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perfsim.registry import Registry
from perfsim.spec.model import ModelSpec

#: Benchmark of the frontier's accuracy axis unless the caller names another: MMLU, 5-shot, base
#: checkpoint, the one evaluation every bundled base model publishes (the `default_benchmark` of
#: perfsim/accuracy/data/published_scores.yaml; a test keeps the two equal).
DEFAULT_BENCHMARK = "mmlu"

#: What an estimate is: a published measurement, a fitted proxy, a user's number, or nothing.
KINDS = ("measured", "proxy", "user", "unknown")


@dataclass(frozen=True, slots=True)
class AccuracyEstimate:
    """A score in percent, where it came from, and the predicted LM loss if a law produced it.

    `kind` tells a chart how to draw the point (a proxy gets its own marker); `low`/`high` bound a
    proxy's score by its leave-one-out error (None for measurements and user numbers)."""

    accuracy: float
    source: str
    loss_nats: float = math.nan
    kind: str = "user"
    low: float | None = None
    high: float | None = None
    benchmark: str | None = None


class AccuracyModel:
    """Base class of accuracy models (the extension point of `perfsim.accuracy`).

    A subclass is a frozen dataclass of its parameters, registered with
    `@register_accuracy("name")` (the name `make_accuracy`, sweep/frontier/search and the CLI
    take; it is also written to `cls.name`).

    Must implement:
        estimate(model: ModelSpec) -> AccuracyEstimate | None
            A score in percent on `benchmark`, with its source; None when the model has no
            opinion (so models chain: `MeasuredThenScalingLaw` tries published scores first).

    May override:
        benchmark (field or class attribute)
            The benchmark the score is on (default `DEFAULT_BENCHMARK`).
        __call__(model) -> AccuracyEstimate
            Default: `estimate`, with None turned into a NaN score marked 'unknown'.

    Decoding strategies are not an accuracy model's concern: `DecodingQuality` multiplies the
    score by the strategy's own `relative_accuracy`.
    """

    name = "accuracy"
    benchmark: str = DEFAULT_BENCHMARK

    def estimate(self, model: ModelSpec) -> AccuracyEstimate | None:
        raise NotImplementedError

    def __call__(self, model: ModelSpec) -> AccuracyEstimate:
        """Like `estimate`, but 'unknown' is a NaN score instead of None."""
        found = self.estimate(model)
        return found if found is not None else AccuracyEstimate(math.nan, "unknown", kind="unknown",
                                                                benchmark=self.benchmark)


_ACCURACY: Registry[type[AccuracyModel]] = Registry("accuracy model", "name")
register_accuracy = _ACCURACY.register
registered_accuracies = _ACCURACY.as_dict
create_accuracy = _ACCURACY.create
