"""Turn a transformer into a hybrid: replace a share of its full-attention layers by another
token mixer (Jamba, Nemotron-H, Nemotron-Flash, Qwen3-Next style), each sized by the one
replacement recipe in sizing.py. The attention layers kept are spread evenly through the stack,
since hybrids keep a few global-attention layers at regular intervals for long-range recall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import AttentionSpec, ModelSpec, OperatorSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import positions, replace_ops
from perfsim.transforms.sizing import REPLACEMENTS, replacement


def kept_attention(n: int, share: float) -> list[int]:
    """Which of `n` full-attention layers stay when `share` of them is replaced: the rest,
    evenly spaced (first and last kept while two or more stay)."""
    keep = n - int(round(share * n))
    return sorted({int(i) for i in np.round(np.linspace(0, n - 1, keep))}) if keep else []


@register_transform("hybridise")
@dataclass(frozen=True)
class Hybridise(Transform):
    """Replace `share` (0..1) of the full-attention sublayers by `kind` (one of REPLACEMENTS);
    `window` sets a sliding-window replacement's window (default: the recipe's 512)."""

    kind: str
    share: float = 0.5
    window: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in REPLACEMENTS:
            raise PerfsimInputError(f"hybridise: kind must be one of {', '.join(REPLACEMENTS)} "
                                    f"(got {self.kind!r}).")
        share = self.share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise PerfsimInputError(f"hybridise: share must be a fraction in 0..1 (got {self.share!r}).")
        self.require_positive_int("window", optional=True)

    def apply(self, model: ModelSpec) -> ModelSpec:
        if self.share == 0:
            return model
        attention = {p: op for p in positions(model, AttentionSpec, None, "hybridise")
                     if isinstance(op := model.sublayers[p], AttentionSpec) and op.window is None}
        full = sorted(attention)
        if not full:
            raise PerfsimInputError(f"hybridise: {model.id} has no full-attention layers to replace.")
        keep = set(kept_attention(len(full), self.share))
        edits: dict[int, OperatorSpec | None] = {
            p: replacement(self.kind, attention[p], model.hidden_size, model.max_context_len,
                           window=self.window)
            for i, p in enumerate(full) if i not in keep}
        return replace_ops(model, edits, self.kind) if edits else model
