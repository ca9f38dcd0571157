"""Attention edits: remove or linearise (Puzzle), sliding window (gpt-oss-puzzle), per-layer KV
heads (Puzzle's variable GQA), and a longer context (RoPE scaling such as YaRN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import AttentionSpec, LinearSpec, ModelSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import map_operators, positions, replace_ops, validated


@register_transform("remove_attention")
@dataclass(frozen=True)
class RemoveAttention(Transform):
    """Drop the chosen attention sublayers ('none'), or replace each by one hidden x hidden
    linear layer ('linear'), as Puzzle's NAS does; their KV cache disappears with them.

    `linear_layers` linearises more layers in the same pass, so one transform can do both and
    both lists index the attention sublayers of the model it is given.
    """

    layers: tuple[int, ...] | None = None
    replace_with: Literal["none", "linear"] = "none"
    linear_layers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.replace_with not in ("none", "linear"):
            raise PerfsimInputError(
                f"remove_attention: replace_with must be 'none' or 'linear' (got {self.replace_with!r})."
            )
        if self.linear_layers is not None:
            if not all(isinstance(i, int) for i in self.linear_layers):
                raise PerfsimInputError("remove_attention: linear_layers must be a list of integer indices.")
            object.__setattr__(self, "linear_layers", tuple(sorted(set(self.linear_layers))))
            if self.layers is None or set(self.layers) & set(self.linear_layers):
                raise PerfsimInputError("remove_attention: with linear_layers, give layers too, and no index "
                                        "in both lists.")

    def apply(self, model: ModelSpec) -> ModelSpec:
        pos = positions(model, AttentionSpec, self.layers, "remove_attention layers")
        edits = dict.fromkeys(pos, None if self.replace_with == "none" else LinearSpec())
        if self.linear_layers is not None:
            edits.update(dict.fromkeys(positions(model, AttentionSpec, self.linear_layers,
                                                 "remove_attention linear_layers"), LinearSpec()))
        return replace_ops(model, edits, "linear")


@register_transform("sliding_window")
@dataclass(frozen=True)
class SlidingWindow(Transform):
    """Window the chosen attention layers to the last `window` tokens (default: every layer
    whose window is missing or wider). KV per sequence stops growing at the window."""

    window: int
    layers: tuple[int, ...] | None = None
    keeps_params = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_positive_int("window")

    def apply(self, model: ModelSpec) -> ModelSpec:
        def edit(spec: AttentionSpec) -> AttentionSpec:
            if self.layers is None and spec.window is not None and spec.window <= self.window:
                return spec
            return spec.model_copy(update={"window": self.window})

        if self.window > model.max_context_len:
            raise PerfsimInputError(f"sliding_window: window {self.window} exceeds max_context_len "
                                    f"{model.max_context_len} of {model.id}.")
        return map_operators(model, AttentionSpec, edit, f"w{self.window}", self.layers,
                             "sliding_window layers")


@register_transform("kv_heads")
@dataclass(frozen=True)
class KVHeads(Transform):
    """Set the KV heads of the chosen attention layers (Puzzle's per-block GQA); query heads
    stay, so `num_kv_heads` must divide them."""

    num_kv_heads: int
    layers: tuple[int, ...] | None = None

    def apply(self, model: ModelSpec) -> ModelSpec:
        def edit(spec: AttentionSpec) -> AttentionSpec:
            kv = self.num_kv_heads
            if not isinstance(kv, int) or kv < 1 or spec.num_heads % kv:
                raise PerfsimInputError(
                    f"kv_heads: num_kv_heads must divide the {spec.num_heads} query heads (got {kv!r})."
                )
            return spec.model_copy(update={"num_kv_heads": self.num_kv_heads})

        return map_operators(model, AttentionSpec, edit, f"kv{self.num_kv_heads}", self.layers,
                             "kv_heads layers")


@register_transform("context_length")
@dataclass(frozen=True)
class ContextLength(Transform):
    """Serve a different maximum context (RoPE scaling such as YaRN extends it without new
    weights); windows wider than the new context are rejected."""

    max_context_len: int
    keeps_params = True

    def apply(self, model: ModelSpec) -> ModelSpec:
        self.require_positive_int("max_context_len")
        if self.max_context_len == model.max_context_len:
            return model
        data = model.model_dump()
        data["max_context_len"] = self.max_context_len
        return validated(data, model.id)
