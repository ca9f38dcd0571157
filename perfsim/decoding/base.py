"""Decoding strategy protocol, quality hook and registry.

A strategy says (a) what one decoding iteration runs on the hardware (which forwards, how many
query tokens each), (b) how many tokens it yields per sequence, in expectation and as a sampled
distribution, and (c) how it changes the model's accuracy relative to autoregressive decoding of
the same weights. Acceptance rates and tokens per step are explicit inputs, never hidden constants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.cost.step import step_latency
from perfsim.errors import PerfsimInputError
from perfsim.registry import Registry

if TYPE_CHECKING:
    from perfsim.spec.deployment import Execution
    from perfsim.spec.hardware import HardwareProfile
    from perfsim.spec.model import ModelSpec


@dataclass(frozen=True, slots=True)
class QualityPoint:
    """Accuracy of a decoding method relative to its AR parent at one tokens-per-forward point."""

    method: str
    tokens_per_forward: float
    relative_accuracy: float
    source: str


class DecodingStrategy:
    """Base class of decoding strategies (the extension point of `perfsim.decoding`).

    A subclass is a frozen dataclass whose fields are its parameters, registered with
    `@register_decoding("name")` (the name used by the CLI, YAML and `make_decoding`; it is also
    written to `cls.name`). Validate parameters in `__post_init__` and raise `PerfsimInputError`.

    Must implement:
        expected_tokens() -> float
            Mean tokens finalised per sequence per iteration.
        sample_tokens(rng, size) -> np.ndarray
            Integer tokens per sequence for `size` independent iterations (the simulators draw
            from it); its mean should be `expected_tokens()`.

    Quality (pick one; nothing outside the strategy's module needs an edit):
        lossless = True
            The output distribution equals the target's (factor 1), e.g. AR, speculative sampling.
        quality_points = (QualityPoint(...), ...)
            Published (tokens per forward, accuracy relative to the AR parent) points; the default
            `relative_accuracy` interpolates them linearly at `expected_tokens()`, clamped at the
            ends. Points are filed under `quality_method` (default: the registered name; set it
            explicitly so subclasses share the parent's points).
        relative_accuracy(points=None) -> (factor, source)
            Override for any other quality model.

    May override:
        target_step(batch, context) -> StepBatch
            Shape of the target's forward in one iteration (default: one decode token/sequence).
        iteration_latency(target, hw, batch, context, execution)
            Seconds per iteration, array-capable (default: the target step; add drafter forwards).
        prefill_extra_latency(target, hw, batch, prompt_len, execution) -> float
            Work added to TTFT besides the target's prefill (e.g. a draft model's prefill).
        resident_draft(target) -> (ModelSpec | None, shared_params)
            A drafter held in device memory next to the target.
        describe() -> str
            One line for tables and reports.
    """

    name = "strategy"
    #: True when the strategy reproduces the target's output distribution exactly.
    lossless: ClassVar[bool] = False
    #: Method the quality points are filed under; None means the registered `name`.
    quality_method: ClassVar[str | None] = None
    #: Published quality points for `quality_method` (see `QualityPoint`).
    quality_points: ClassVar[tuple[QualityPoint, ...]] = ()

    def expected_tokens(self) -> float:
        """Expected tokens finalised per sequence per iteration."""
        raise NotImplementedError

    def sample_tokens(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Tokens finalised per sequence for `size` independent iterations."""
        raise NotImplementedError

    def relative_accuracy(self, points: Iterable[QualityPoint] | None = None) -> tuple[float, str]:
        """(accuracy factor relative to AR decoding of the same weights, where it came from).

        `points`: measurements to use instead of the strategy's published `quality_points`;
        only those filed under this strategy's `quality_method` count."""
        if self.lossless:
            return 1.0, f"{self.name}: lossless"
        method = self.quality_method or self.name
        pool = self.quality_points if points is None else points
        mine = sorted((p for p in pool if p.method == method), key=lambda p: p.tokens_per_forward)
        if not mine:
            raise PerfsimInputError(
                f"no published quality points for decoding '{method}'; pass "
                "DecodingQuality(points=...) with your own measurements."
            )
        x = self.expected_tokens()
        factor = float(
            np.interp(x, [p.tokens_per_forward for p in mine], [p.relative_accuracy for p in mine])
        )
        nearest = min(mine, key=lambda p: abs(p.tokens_per_forward - x))
        return factor, f"{method} at {x:.2f} tokens/forward, interpolated; nearest: {nearest.source}"

    def target_step(self, batch, context) -> StepBatch:
        """The target model's forward in one iteration (its shape decides the cost)."""
        return StepBatch(decode_seqs=batch, decode_context=context)

    def iteration_latency(self, target: ModelSpec, hw: HardwareProfile, batch, context,
                          execution: Execution):
        """Seconds for one iteration at `batch` sequences with `context` cached (array-capable)."""
        return step_latency(target, hw, self.target_step(batch, context), execution)

    def prefill_extra_latency(self, target: ModelSpec, hw: HardwareProfile, batch: int,
                              prompt_len: int, execution: Execution) -> float:
        """Work added to TTFT besides the target's prefill (e.g. a draft model's prefill)."""
        return 0.0

    def resident_draft(self, target: ModelSpec) -> tuple[ModelSpec | None, float]:
        """A drafter held in device memory next to the target, and the parameters it shares
        with the target (counted once)."""
        return None, 0.0

    def describe(self) -> str:
        return self.name


def sample_around_mean(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """Integer tokens on floor(mean) and ceil(mean) with the given mean (least-spread choice
    when only a mean is measured)."""
    low = np.floor(mean)
    return (low + (rng.random(size) < mean - low)).astype(int)


_DECODINGS: Registry[type[DecodingStrategy]] = Registry("decoding", "name")
register_decoding = _DECODINGS.register
registered_decodings = _DECODINGS.as_dict
create_decoding = _DECODINGS.create


def published_quality_points() -> tuple[QualityPoint, ...]:
    """Every registered strategy's published quality points, in registration order (a point
    shared through inheritance is listed once)."""
    seen: list[QualityPoint] = []
    for cls in registered_decodings().values():
        seen.extend(p for p in cls.quality_points if p not in seen)
    return tuple(seen)
