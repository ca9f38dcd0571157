"""Autoregressive decoding: one target forward per token per sequence (the baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.decoding.base import DecodingStrategy, register_decoding


@register_decoding("autoregressive")
@dataclass(frozen=True)
class Autoregressive(DecodingStrategy):
    lossless = True  # the baseline every quality factor is relative to

    def expected_tokens(self) -> float:
        return 1.0

    def sample_tokens(self, rng, size):
        return np.ones(size, dtype=int)
