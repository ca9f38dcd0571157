"""Decoding quality: how a decoding strategy changes a model's score, and reasoning-effort curves.

* The quality model belongs to the strategy (`DecodingStrategy.relative_accuracy`, with its
  `lossless` flag or published `quality_points` in the strategy's own module); `DecodingQuality`
  asks the strategy, optionally with your own measured points. Autoregressive and speculative
  decoding are lossless (factor 1); diffusion-style strategies interpolate published points
  (see `perfsim.decoding.diffusion`).
* Reasoning effort (request-level efficiency, gpt-oss-puzzle, arXiv 2602.11937, papers.md section
  6b): an effort level is (mean generated tokens, accuracy); a faster engine that needs longer
  traces is not faster per request. The curve is an explicit input: no published per-effort token
  counts for the bundled models were found.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.decoding.base import QualityPoint, published_quality_points
from perfsim.errors import PerfsimInputError

#: The bundled strategies' published points (each strategy module holds its own).
PUBLISHED_POINTS = published_quality_points()


@dataclass(frozen=True)
class DecodingQuality:
    """Relative accuracy factor of a decoding strategy, with where it came from.

    `points`: None uses each strategy's own published points; pass measurements (any mix of
    methods; each strategy keeps those filed under its `quality_method`) to override them."""

    points: tuple[QualityPoint, ...] | None = None

    def factor(self, decoding: str | DecodingStrategy | None) -> tuple[float, str]:
        return make_decoding(decoding).relative_accuracy(self.points)


@dataclass(frozen=True)
class ReasoningEffort:
    """Accuracy versus generated tokens per request across reasoning-effort levels."""

    levels: dict[str, tuple[float, float]]  # effort -> (mean generated tokens, accuracy %)

    def __post_init__(self) -> None:
        if not self.levels:
            raise PerfsimInputError("reasoning effort needs at least one level: {name: (tokens, accuracy)}.")
        for name, (tokens, acc) in self.levels.items():
            if tokens < 1 or not 0 <= acc <= 100:
                raise PerfsimInputError(
                    f"effort '{name}': tokens must be >= 1 and accuracy in 0..100 (got {tokens}, {acc})."
                )

    def request_rates(self, tokens_per_s: float) -> dict[str, tuple[float, float]]:
        """effort -> (requests per second at `tokens_per_s`, accuracy): the request-level frontier."""
        return {name: (tokens_per_s / tokens, acc) for name, (tokens, acc) in self.levels.items()}
