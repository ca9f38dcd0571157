"""Accuracy models: the second axis of a design frontier, next to latency.

Registered names: "measured" (published scores: the bundled table perfsim/accuracy/data/
published_scores.yaml, else the model YAML), "scaling_law" (Chinchilla loss with shape and
operator-mix adjustments, mapped to a score proxy fitted per benchmark with its leave-one-out band,
marked `proxy`), "user" (a callable or a CSV table) and "default" (measured when known, else the
proxy). Every estimate names its benchmark (default MMLU 5-shot, base checkpoint) and its kind.
Decoding strategies scale a score by `DecodingQuality`, which asks the strategy
(`DecodingStrategy.relative_accuracy`: speculative is lossless; diffusion from published points).
Adding a model: a frozen dataclass subclassing `AccuracyModel`, decorated with
`@register_accuracy("name")`, in a new module of this package (every module here is imported with
the package, so it registers itself; see README.md here).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from perfsim.accuracy.base import (
    DEFAULT_BENCHMARK,
    KINDS,
    AccuracyEstimate,
    AccuracyModel,
    create_accuracy,
    register_accuracy,
    registered_accuracies,
)
from perfsim.accuracy.decoding_quality import PUBLISHED_POINTS, DecodingQuality, QualityPoint, ReasoningEffort
from perfsim.accuracy.measured import Measured, MeasuredThenScalingLaw
from perfsim.accuracy.published import load_published_scores
from perfsim.accuracy.request_level import RequestRate, published_request_rate
from perfsim.accuracy.scaling_law import ScalingLaw, chinchilla_loss, fit_score_proxy, score_from_loss
from perfsim.accuracy.user import UserAccuracy
from perfsim.errors import PerfsimInputError
from perfsim.registry import import_submodules

import_submodules(__name__, __path__)  # new modules register themselves

AccuracyLike = str | dict | AccuracyModel | Callable | os.PathLike | None


def make_accuracy(spec: AccuracyLike = None) -> AccuracyModel:
    """An accuracy model from a registered name, {"name": ..., **params}, a CSV path, a callable
    or a model object; None gives "default" (measured, else scaling law)."""
    if isinstance(spec, AccuracyModel):
        return spec
    if spec is None:
        return create_accuracy("default")
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and spec.endswith(".csv")):
        return UserAccuracy(table=spec)
    if isinstance(spec, str):
        return create_accuracy(spec)
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
        if not name:
            raise PerfsimInputError("accuracy: a mapping needs a 'name' key (e.g. scaling_law).")
        return create_accuracy(name, **params)
    if callable(spec):
        return UserAccuracy(fn=spec)
    raise PerfsimInputError(
        f"accuracy: expected a name, mapping, CSV path or callable (got {type(spec).__name__})."
    )


__all__ = [
    "DEFAULT_BENCHMARK",
    "KINDS",
    "PUBLISHED_POINTS",
    "AccuracyEstimate",
    "AccuracyModel",
    "DecodingQuality",
    "Measured",
    "MeasuredThenScalingLaw",
    "QualityPoint",
    "ReasoningEffort",
    "RequestRate",
    "ScalingLaw",
    "UserAccuracy",
    "chinchilla_loss",
    "create_accuracy",
    "fit_score_proxy",
    "load_published_scores",
    "make_accuracy",
    "published_request_rate",
    "register_accuracy",
    "registered_accuracies",
    "score_from_loss",
]
