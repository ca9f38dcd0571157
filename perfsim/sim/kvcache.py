"""Paged KV cache and recurrent-state memory of one replica, in blocks.

The pool is what vLLM gives the cache: `gpu_memory_utilization` x device memory, minus weights,
the activation peak of the largest iteration and the runtime's own allocations; or, the way
TensorRT-LLM sizes it, `kv_cache_free_fraction` x the memory those leave free. A block holds
`block_size` tokens of KV for every attention layer. Sliding-window layers stop growing at their
window, so a sequence's blocks are its exact KV bytes divided by a block's bytes, rounded up.
Recurrent (Mamba / linear-attention) state is constant per sequence and is held from admission,
rounded up to whole blocks; a model without KV counts in per-sequence state slots instead.
"""

from __future__ import annotations

import math

import numpy as np

from perfsim.cost.memory import Footprint
from perfsim.errors import PerfsimInputError
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.units import format_bytes


class KVCache:
    def __init__(self, model: ModelSpec, hw: HardwareProfile, *, block_size: int,
                 gpu_memory_utilization: float, max_batched_tokens: int, max_seqs: int,
                 kv_cache_free_fraction: float | None = None, tensor_parallel: int = 1,
                 draft: ModelSpec | None = None, draft_shared_params: float = 0.0):
        # a speculative drafter's KV shares the blocks (as in vLLM); its weights and state count too
        foot = Footprint.of(model, hw, tensor_parallel, draft, draft_shared_params)
        full, state, weights = foot.kv_full_bytes_per_token, foot.state_bytes_per_seq, foot.weights_bytes
        self._full_bytes_per_token = full
        self._windows = sorted(foot.kv_windows)
        self.block_size = block_size
        self.block_bytes = block_size * (full + sum(b for _, b in foot.kv_windows))

        # the largest iteration's peak: a full token budget and the logits of the largest batch
        activations = foot.activation_bytes(max_batched_tokens, max_seqs)
        trt = kv_cache_free_fraction is not None
        budget = hw.memory.usable_bytes if trt else min(gpu_memory_utilization * hw.memory.capacity_bytes,
                                                        hw.memory.usable_bytes)
        free = budget - foot.total_bytes(0, 0, max_batched_tokens, logit_rows=max_seqs)  # an empty pool
        if free <= 0:
            share = (format_bytes(budget) if trt else
                     f"{gpu_memory_utilization:g} x {format_bytes(hw.memory.capacity_bytes)}")
            raise PerfsimInputError(
                f"{model.id} leaves no room for a KV cache on {hw.id}: {share} minus weights "
                f"{format_bytes(weights)}, activations {format_bytes(activations)} and runtime "
                f"{format_bytes(hw.memory.reserved_runtime_bytes)} is {format_bytes(free)}; "
                + ("" if trt else "raise gpu_memory_utilization (allowed up to 1.0), ")
                + "lower max_batched_tokens or use more tensor parallelism.")
        self.pool_bytes = free * kv_cache_free_fraction if trt else free
        unit = self.block_bytes or state
        self.total_blocks = int(self.pool_bytes // unit) if unit else 1 << 62
        self.state_blocks = math.ceil(state / unit) if unit and state else 0
        self.free_blocks = self.total_blocks

    def blocks_for(self, tokens: int) -> int:
        """Blocks a sequence with `tokens` cached tokens holds (state excluded)."""
        return int(self.blocks_for_many(np.asarray(tokens, dtype=np.int64)))

    def blocks_for_many(self, tokens: np.ndarray) -> np.ndarray:
        if not self.block_bytes:
            return np.zeros_like(tokens)
        if not self._windows:  # every layer keeps every token: whole blocks of block_size tokens
            return (tokens + (self.block_size - 1)) // self.block_size
        kv = self._full_bytes_per_token * tokens
        for window, per_token in self._windows:
            kv = kv + per_token * np.minimum(tokens, window)
        return np.ceil(kv / self.block_bytes).astype(np.int64)

    def sequence_blocks(self, tokens: int) -> int:
        """Blocks a sequence with `tokens` cached holds, its recurrent state included."""
        return self.blocks_for(tokens) + self.state_blocks

    @property
    def used_fraction(self) -> float:
        return 1.0 - self.free_blocks / self.total_blocks

    def try_grow(self, held: int, tokens: int) -> int | None:
        """Blocks held after making room for `tokens` cached tokens, or None if the pool is short
        (then nothing is taken)."""
        need = self.sequence_blocks(tokens) - held
        if need <= 0:
            return held
        if need > self.free_blocks:
            return None
        self.free_blocks -= need
        return held + need

    def shrink(self, held: int, tokens: int) -> int:
        """Give back blocks beyond what `tokens` cached tokens need (rejected draft slots)."""
        keep = min(self.sequence_blocks(tokens), held)
        self.free_blocks += held - keep
        return keep

    def release(self, held: int) -> None:
        self.free_blocks += held
        if self.free_blocks > self.total_blocks:
            raise AssertionError("KV blocks released twice")
