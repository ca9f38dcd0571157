"""Block diffusion (Fast-dLLM v2, Efficient-DLM, SDAR-style) and full masked diffusion.

Each denoising forward processes a (sub-)block of query tokens: with a block-level KV cache the
cached prefix is attended to and only `sub_block_size` queries run; without a cache (LLaDA/Dream
style full bidirectional diffusion) every step recomputes the whole sequence bidirectionally: the
text so far plus the current block, or, with `canvas_tokens`, a fixed canvas (Dream and LLaDA keep
the prompt and every still-masked position of max_new_tokens in each forward, so a step costs the
same from the first to the last).
Tokens finalised per forward come from the confidence threshold and are an explicit input: a
mean (`tokens_per_step`), a number of denoising steps per block (`steps_per_block`, e.g. from an
R2-dLLM-style step-reduction policy), or a distribution of (tokens, probability) pairs.

Quality: relative accuracy versus tokens finalised per forward (T/NFE), linearly interpolated
between published points of the same method and clamped at the ends (no extrapolation). The points
come from different recipes and model sizes; they say what has been reached, not a law. Pass your
own points (`DecodingQuality(points=...)`) for your model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.decoding.base import DecodingStrategy, QualityPoint, register_decoding, sample_around_mean
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_SIZE


@register_decoding("block_diffusion")
@dataclass(frozen=True)
class BlockDiffusion(DecodingStrategy):
    quality_method = "block_diffusion"  # explicit so subclasses share these points
    quality_points = (
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
    )

    block_size: int = 32
    sub_block_size: int = 8
    tokens_per_step: float | None = None
    steps_per_block: int | None = None
    distribution: tuple[tuple[int, float], ...] | None = None
    kv_cache: bool = True
    #: No-cache only: positions every forward runs (prompt + max_new_tokens); None = context + block.
    canvas_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.block_size < 1 or not 1 <= self.sub_block_size <= self.block_size:
            raise PerfsimInputError(f"need 1 <= sub_block_size <= block_size (got {self.sub_block_size}, "
                                    f"{self.block_size}).")
        given = [x is not None for x in (self.tokens_per_step, self.steps_per_block, self.distribution)]
        if sum(given) != 1:
            raise PerfsimInputError("block diffusion needs exactly one of tokens_per_step, "
                                    "steps_per_block or distribution.")
        canvas = self.canvas_tokens
        if canvas is not None and (self.kv_cache or isinstance(canvas, bool) or not isinstance(canvas, int)
                                   or not self.block_size <= canvas <= MAX_SIZE):
            raise PerfsimInputError(f"block diffusion: canvas_tokens needs kv_cache=False and an integer in "
                                    f"{self.block_size}..{MAX_SIZE} (block_size..); got {canvas!r} with "
                                    f"kv_cache={self.kv_cache}.")
        mean = self.expected_tokens()
        if not 1.0 <= mean <= self.sub_block_size:
            raise PerfsimInputError(f"tokens finalised per step must be in 1..{self.sub_block_size} "
                                    f"(sub_block_size); got a mean of {mean:.3g}.")

    def expected_tokens(self) -> float:
        if self.tokens_per_step is not None:
            return float(self.tokens_per_step)
        if self.steps_per_block is not None:
            return self.block_size / self.steps_per_block
        values, probs = np.array(self.distribution, dtype=float).T
        if abs(probs.sum() - 1.0) > 1e-6:
            raise PerfsimInputError(f"distribution probabilities must sum to 1 (got {probs.sum():.4g}).")
        return float(values @ probs)

    def sample_tokens(self, rng, size):
        if self.distribution is not None:
            values, probs = np.array(self.distribution, dtype=float).T
            return rng.choice(values.astype(int), size=size, p=probs)
        return sample_around_mean(rng, self.expected_tokens(), size)

    def target_step(self, batch, context) -> StepBatch:
        if self.kv_cache:
            return StepBatch(decode_seqs=batch, decode_context=context, decode_tokens=self.sub_block_size)
        tokens = self.canvas_tokens or context + self.block_size
        return StepBatch(prefill_seqs=batch, prefill_tokens=tokens, prefill_causal=False)

    def describe(self) -> str:
        cache = "block KV cache" if self.kv_cache else "no cache"
        cache += f", {self.canvas_tokens}-token canvas" if self.canvas_tokens else ""
        return (f"block diffusion (block {self.block_size}, sub-block {self.sub_block_size}, "
                f"{self.expected_tokens():.2f} tokens/step, {cache})")


@register_decoding("tidar")
@dataclass(frozen=True)
class TiDAR(DecodingStrategy):
    """One forward verifies the previous k drafts causally and pre-drafts the next block for every
    acceptance outcome bidirectionally (TiDAR, papers.md section 2). Slots per forward default to
    k + k (k + 1): the k drafts to verify plus a k-token mask block for each of the k + 1 possible
    accepted prefixes; pass `slots_per_forward` when the mask layout differs."""

    quality_method = "tidar"
    quality_points = (
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

    draft_len: int = 16
    tokens_per_forward: float = 1.0
    slots_per_forward: int | None = None

    def __post_init__(self) -> None:
        if self.draft_len < 1:
            raise PerfsimInputError(f"draft_len must be >= 1 (got {self.draft_len}).")
        if not 1.0 <= self.tokens_per_forward <= self.draft_len + 1:
            raise PerfsimInputError(f"tokens_per_forward (T/NFE) must be in 1..{self.draft_len + 1} "
                                    f"(got {self.tokens_per_forward}).")
        if self.slots_per_forward is not None and self.slots_per_forward < self.draft_len:
            raise PerfsimInputError(f"slots_per_forward must be >= draft_len ({self.draft_len}).")

    @property
    def slots(self) -> int:
        return self.slots_per_forward or self.draft_len * (self.draft_len + 2)

    def expected_tokens(self) -> float:
        return float(self.tokens_per_forward)

    def sample_tokens(self, rng, size):
        return sample_around_mean(rng, self.tokens_per_forward, size)

    def target_step(self, batch, context) -> StepBatch:
        return StepBatch(decode_seqs=batch, decode_context=context, decode_tokens=self.slots)

    def describe(self) -> str:
        return f"TiDAR (draft {self.draft_len}, {self.slots} slots, {self.tokens_per_forward} T/NFE)"
