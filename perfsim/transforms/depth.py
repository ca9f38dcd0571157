"""Change the number of layers by even resampling that keeps a hybrid's mix and its order.

Cutting the last layers of a hybrid would drop its late attention layers, and taking every
k-th layer aliases with periodic patterns (every 2nd layer of Gemma's 5 local : 1 global
pattern has no global layer). Instead each new layer i stands for the stretch
[i*n/d, (i+1)*n/d) of the original n layers and takes the layer kind furthest behind its
share of the original up to there: every kind keeps its share (within one layer) and its
place along the stack. Within a kind the layers used are spread evenly (first and last kept),
which matters for heterogeneous (Puzzle) stacks whose layers of one kind differ in width;
growing repeats each layer in place, as depth up-scaling does.
A layer is what `layout.layer_spans` counts: a token mixer (or its linear stand-in) and the
FFN/MoE sublayers after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import AttentionSpec, LinearAttentionSpec, ModelSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import layer_spans, rebuild

#: Most layers a depth edit may ask for (deep enough for any published model, scaled up 8x).
MAX_LAYERS = 4096


def num_layers(model: ModelSpec) -> int:
    """The layer count depth edits change (Llama-3.1-Nemotron-51B: 54 attention + 18 linear = 72)."""
    return len(layer_spans(model))


def layer_kinds(model: ModelSpec) -> list[tuple[str, ...]]:
    """Each layer's kind: its sublayers' operator kinds, widths aside (sliding-window attention
    and each linear-attention variant count as kinds of their own)."""
    def kind(op) -> str:
        if isinstance(op, AttentionSpec):
            return "sliding_window" if op.window else "attention"
        return op.variant if isinstance(op, LinearAttentionSpec) else op.type

    return [tuple(kind(model.sublayers[p]) for p in span) for span in layer_spans(model)]


def resample(kinds: list, depth: int) -> list[int]:
    """Indices into `kinds` (with repeats when growing) of a `depth`-long stack with the same mix
    and order of kinds; deterministic, and the identity when depth == len(kinds)."""
    n = len(kinds)
    order = list(dict.fromkeys(kinds))  # ties go to the kind met first
    members = {k: [i for i, x in enumerate(kinds) if x == k] for k in order}
    prefix = {k: [0, *np.cumsum([x == k for x in kinds]).tolist()] for k in order}
    # how many layers of each kind: its share depth*count/n rounded by largest remainder, so every
    # kind ends within one layer of its share and the quotas sum to depth
    quota = {k: depth * len(members[k]) // n for k in order}
    by_remainder = sorted(order, key=lambda k: -(depth * len(members[k]) % n))  # stable: ties by order
    for k in by_remainder[: depth - sum(quota.values())]:
        quota[k] += 1
    taken = dict.fromkeys(order, 0)
    chosen: list = []
    for i in range(depth):
        # layer i covers the original up to (i+1)*n/depth = lo + r/depth layers; n * (share due
        # so far - layers taken) in integers, so ties are exact; a kind whose quota is used is done
        lo, r = divmod((i + 1) * n, depth)
        behind = {k: prefix[k][lo] * depth + r * (prefix[k][min(lo + 1, n)] - prefix[k][lo]) - n * taken[k]
                  for k in order if taken[k] < quota[k]}
        pick = max(behind, key=behind.__getitem__)
        taken[pick] += 1
        chosen.append(pick)
    picks = {k: iter(_spread(len(members[k]), taken[k])) for k in order}
    return [members[k][next(picks[k])] for k in chosen]


def _spread(n: int, c: int) -> list[int]:
    """`c` of `n` same-kind layers in order: evenly spaced with first and last kept when shrinking,
    each repeated in place (every one at least once) when growing."""
    if c >= n:
        return [j * n // c for j in range(c)]
    return [int(i) for i in np.round(np.linspace(0, n - 1, c))]


@register_transform("depth")
@dataclass(frozen=True)
class Depth(Transform):
    """Resample the stack to `num_layers` layers (fewer or more), keeping the mix of kinds."""

    num_layers: int

    def __post_init__(self) -> None:
        value = self.num_layers
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LAYERS:
            raise PerfsimInputError(f"depth: num_layers must be an integer in 1..{MAX_LAYERS} "
                                    f"(got {value!r}).")

    def apply(self, model: ModelSpec) -> ModelSpec:
        spans = layer_spans(model)
        if self.num_layers == len(spans):
            return model
        pairs = list(zip(model.sublayer_names, model.sublayers, strict=True))
        sequence = [pairs[p] for i in resample(layer_kinds(model), self.num_layers) for p in spans[i]]
        return rebuild(model, sequence, "depth")
