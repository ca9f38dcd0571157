"""Decoding strategy protocol and registry.

A strategy says (a) what one decoding iteration runs on the hardware (which forwards, how many
query tokens each) and (b) how many tokens it yields per sequence, in expectation and as a sampled
distribution. Acceptance rates and tokens per step are explicit inputs, never hidden constants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.cost.step import step_latency
from perfsim.registry import Registry

if TYPE_CHECKING:
    from perfsim.cost.graph import Execution
    from perfsim.spec.hardware import HardwareProfile
    from perfsim.spec.model import ModelSpec


class DecodingStrategy:
    """Base class; subclasses are frozen dataclasses registered with `@register_decoding`."""

    name = "strategy"

    def expected_tokens(self) -> float:
        """Expected tokens finalised per sequence per iteration."""
        raise NotImplementedError

    def sample_tokens(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Tokens finalised per sequence for `size` independent iterations."""
        raise NotImplementedError

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
