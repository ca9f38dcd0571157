"""Decoding quality: how a decoding strategy changes a model's score, and reasoning-effort curves.

* Autoregressive and speculative decoding are lossless: speculative sampling with the rejection
  rule reproduces the target's output distribution exactly (Leviathan et al. 2023, arXiv
  2211.17192; Chen et al. 2023, arXiv 2302.01318), so the factor is 1.
* Diffusion decoding: relative accuracy versus tokens finalised per forward (T/NFE), linearly
  interpolated between published points of the same method and clamped at the ends (no
  extrapolation). The points come from different recipes and model sizes; they say what has been
  reached, not a law. Pass your own `points` for your model.
* Reasoning effort (request-level efficiency, gpt-oss-puzzle, arXiv 2602.11937, papers.md section
  6b): an effort level is (mean generated tokens, accuracy); a faster engine that needs longer
  traces is not faster per request. The curve is an explicit input: no published per-effort token
  counts for the bundled models were found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.decoding import BlockDiffusion, DecodingStrategy, Speculative, TiDAR, make_decoding
from perfsim.errors import PerfsimInputError


@dataclass(frozen=True, slots=True)
class QualityPoint:
    """Accuracy of a decoding method relative to its AR parent at one tokens-per-forward point."""

    method: str
    tokens_per_forward: float
    relative_accuracy: float
    source: str


PUBLISHED_POINTS = (
    QualityPoint(
        "block_diffusion",
        1.0,
        38.41 / 41.64,
        "TiDAR Table 2 [P]: Block Diffusion 1.5B 38.41 vs Qwen2.5-1.5B 41.64, one token per forward",
    ),
    QualityPoint(
        "block_diffusion",
        2.6,
        60.3 / 59.6,
        "Fast-dLLM v2 7B avg 60.3 vs Qwen2.5-7B-Nemo-FT 59.6 [S] at threshold 0.9, ~2.6 T/NFE "
        "(papers.md section 3, addendum 8.2 [I])",
    ),
    QualityPoint(
        "tidar",
        7.45,
        44.03 / 41.64,
        "TiDAR 1.5B avg 44.03 at 7.45 T/NFE vs Qwen2.5-1.5B 41.64 (TiDAR Table 2 [P])",
    ),
    QualityPoint(
        "tidar",
        8.24,
        (63.90 + 65.31) / 2 / 68.09,
        "TiDAR 8B avg 63.90 / 65.31 (trust AR / diff) at 8.23-8.25 T/NFE vs Qwen3-8B 68.09 "
        "(TiDAR Table 2 [P])",
    ),
)


@dataclass(frozen=True)
class DecodingQuality:
    """Relative accuracy factor of a decoding strategy, with where it came from."""

    points: tuple[QualityPoint, ...] = PUBLISHED_POINTS

    def factor(self, decoding: str | DecodingStrategy | None) -> tuple[float, str]:
        strategy = make_decoding(decoding)
        if isinstance(strategy, Speculative) or strategy.name == "autoregressive":
            return 1.0, f"{strategy.name}: lossless"
        method = (
            "tidar"
            if isinstance(strategy, TiDAR)
            else "block_diffusion"
            if isinstance(strategy, BlockDiffusion)
            else strategy.name
        )
        mine = sorted((p for p in self.points if p.method == method), key=lambda p: p.tokens_per_forward)
        if not mine:
            raise PerfsimInputError(
                f"no published quality points for decoding '{method}'; pass "
                "DecodingQuality(points=...) with your own measurements."
            )
        x = strategy.expected_tokens()
        factor = float(
            np.interp(x, [p.tokens_per_forward for p in mine], [p.relative_accuracy for p in mine])
        )
        nearest = min(mine, key=lambda p: abs(p.tokens_per_forward - x))
        return factor, f"{method} at {x:.2f} tokens/forward, interpolated; nearest: {nearest.source}"


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
