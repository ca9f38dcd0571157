"""Model + one forward pass's batch composition -> the kernels it launches, per sublayer kind.

A step mixes decode sequences (q new tokens each against a cached context) and prefill chunks
(`prefill_tokens` new tokens after `prefill_past` cached ones). Identical sublayers launch
identical kernels, so each operator kind is priced once and carries its layer count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perfsim.layers import ROWS, TOKEN, Kernel, KernelRole, StepBuilder, check_role, layer_kind
from perfsim.ops import Elementwise
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec

__all__ = ["Kernel", "KernelGroup", "KernelRole", "StepBatch", "build_step", "sublayer_sequence"]


@dataclass(frozen=True)
class StepBatch:
    """Shapes of one forward pass; every field may be a numpy array (vectorised sweeps)."""

    decode_seqs: float | np.ndarray = 0
    decode_context: float | np.ndarray = 0  # cached tokens before this step
    decode_tokens: float | np.ndarray = 1  # new tokens per decode sequence (k+1 when verifying)
    prefill_seqs: float | np.ndarray = 0
    prefill_tokens: float | np.ndarray = 0
    prefill_past: float | np.ndarray = 0
    prefill_causal: bool = True  # False: bidirectional (full masked-diffusion recompute)

    @property
    def tokens(self):
        return self.decode_seqs * self.decode_tokens + self.prefill_seqs * self.prefill_tokens

    @property
    def logit_rows(self):
        """Engines compute logits only where a token is sampled: every decode token, last prefill."""
        return self.decode_seqs * self.decode_tokens + self.prefill_seqs


@dataclass(frozen=True)
class KernelGroup:
    """Kernels of one sublayer kind (e.g. 'attn'), repeated `count` times per forward."""

    sublayer: str
    count: int
    kernels: list[Kernel] = field(default_factory=list)


def _head_and_tail(b: StepBuilder) -> tuple[list[Kernel], list[Kernel]]:
    vocab = -(-b.m.vocab_size // b.tp)  # vocab-parallel lm_head pads the last shard
    rows = b.s.logit_rows
    embed = [Kernel("embedding", Elementwise("gather", b.t * b.h * b.ab, b.t * b.h * b.ab), TOKEN)]
    tail = [
        Kernel("final_norm", b.norm(), TOKEN),
        Kernel("lm_head", b.gemm(rows, vocab, b.h), ROWS),
        Kernel("sampling", Elementwise("sample", rows * vocab * 4.0, rows * 8.0), ROWS),
    ]
    return embed, tail


def build_step(model: ModelSpec, step: StepBatch, execution: Execution) -> list[KernelGroup]:
    """Kernel groups in execution order of first appearance: embedding, sublayer kinds, head.
    Each layer kind emits its own kernels (perfsim.layers); every kernel has a KernelRole."""
    builder = StepBuilder(model, step, execution)
    embed, tail = _head_and_tail(builder)
    groups = [KernelGroup("embedding", 1, embed)]
    counts: dict[str, int] = {}
    for name in model.sublayer_names:
        counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        spec = model.operators[name]
        kernels = [check_role(k) for k in layer_kind(spec).kernels(spec, builder)]
        groups.append(KernelGroup(name, count, kernels))
    groups.append(KernelGroup("lm_head", 1, tail))
    return groups


def sublayer_sequence(model: ModelSpec) -> list[str]:
    """Sublayer kinds in true execution order (for launch-queue simulation)."""
    return ["embedding", *model.sublayer_names, "lm_head"]
