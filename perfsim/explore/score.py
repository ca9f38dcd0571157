"""One design point scored: a model on a device over workload arrays -> what every explorer reports.

Sweep, frontier and search all call `score_design`, so a design gets the same parameters, latency,
memory, fit and accuracy wherever it is evaluated: parameter counts, the batch evaluator's columns
(`perfsim.cost.batch.evaluate_workloads`) and the accuracy model's estimate times the decoding
strategy's quality factor (`perfsim.accuracy.DecodingQuality`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.accuracy import DecodingQuality, make_accuracy
from perfsim.cost.batch import evaluate_workloads
from perfsim.cost.params import model_params
from perfsim.cost.runtime import DEFAULT_RUNTIME
from perfsim.decoding import make_decoding
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


@dataclass(frozen=True, eq=False)
class DesignScore:
    """A design on one device; `columns` are arrays over the workload points."""

    design: str
    hardware: str
    decoding: str
    params: float
    active_params: float
    columns: dict[str, np.ndarray]
    #: The accuracy model's estimate times the decoding's quality factor.
    accuracy: float
    #: Where the estimate comes from (the accuracy model's own words).
    accuracy_source: str
    quality_factor: float
    quality_source: str
    #: measured | proxy | user | unknown (perfsim.accuracy.base.KINDS): how a chart draws it.
    accuracy_kind: str = "user"
    #: A proxy's band (its leave-one-out error) times the quality factor; NaN for measurements.
    accuracy_low: float = float("nan")
    accuracy_high: float = float("nan")
    #: The benchmark the score is on (None when the accuracy model does not say).
    accuracy_benchmark: str | None = None

    @property
    def accuracy_note(self) -> str:
        """accuracy_source, plus the quality factor and its source when decoding changes accuracy."""
        if self.quality_factor == 1.0:
            return self.accuracy_source
        return f"{self.accuracy_source}; x{self.quality_factor:.3f} ({self.quality_source})"

    def first(self) -> dict[str, object]:
        """The columns of the first workload point as Python scalars (one-point rows)."""
        return {k: v[0].item() for k, v in self.columns.items()}


def score_design(model: ModelSpec, hw: HardwareProfile, batch, prompt_len, output_len, *, decoding=None,
                 accuracy=None, execution: Execution | None = None, runtime=DEFAULT_RUNTIME) -> DesignScore:
    """Score `model` on `hw` at the workload arrays (broadcast together). `decoding` and
    `accuracy`: anything make_decoding / make_accuracy take (built objects are used as they are);
    `runtime` as in evaluate_workloads."""
    strategy = make_decoding(decoding)
    counts = model_params(model)
    estimate = make_accuracy(accuracy)(model)
    factor, quality_source = DecodingQuality().factor(strategy)
    columns = evaluate_workloads(model, hw, batch, prompt_len, output_len, decoding=strategy,
                                 execution=execution, runtime=runtime)
    band = [float("nan") if v is None else v * factor for v in (estimate.low, estimate.high)]
    return DesignScore(design=model.id, hardware=hw.id, decoding=strategy.describe(), params=counts.total,
                       active_params=counts.active, columns=columns, accuracy=estimate.accuracy * factor,
                       accuracy_source=estimate.source, quality_factor=factor, quality_source=quality_source,
                       accuracy_kind=estimate.kind, accuracy_low=band[0], accuracy_high=band[1],
                       accuracy_benchmark=estimate.benchmark)


__all__ = ["DesignScore", "score_design"]
