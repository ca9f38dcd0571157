"""The layer-kind protocol and its registry: one object per kind owns everything perfsim asks of
a sublayer (spec, parameters, cache and activation bytes, kernels), so adding a kind is one module.
The value types it returns live in `types.py`, the shared step builder in `builder.py`.
"""

from __future__ import annotations

from typing import ClassVar

from perfsim.errors import PerfsimInputError
from perfsim.layers.builder import StepBuilder
from perfsim.layers.types import (
    DECODE,
    PREFILL,
    ROWS,
    TOKEN,
    Kernel,
    KernelRole,
    ParamCount,
    check_role,
    dense,
)
from perfsim.spec.base import _Strict

__all__ = [
    "DECODE", "PREFILL", "ROWS", "TOKEN", "Kernel", "KernelRole", "LayerKind", "ParamCount", "StepBuilder",
    "check_role", "dense", "layer_kind", "layer_kinds", "register_layer",
]


class LayerKind:
    """A sublayer kind. Subclass, set `spec`, override the hooks, decorate with `@register_layer`.

    Class attributes:
        spec: the pydantic spec class; its `type: Literal["<kind>"] = "<kind>"` names the kind in
            YAML and is the discriminator of `perfsim.spec.model.OperatorSpec`.
        mixes_tokens: a token mixer (attention, SSM, ...): counts in `num_mixer_layers` and the
            scaling-law depth, and opens a layer.
        opens_layer: starts a new layer in transforms (elastic depth, block folding); defaults
            to `mixes_tokens` (Puzzle's linear stand-in opens a layer without mixing tokens).
        softmax_attention: a speculative EAGLE/MTP drafter layer prefers this kind as its mixer.
        channel_mixer: an FFN (MLP/MoE): the drafter layer's FFN.

    Hooks (all take the sublayer's spec):
        params(spec, hidden) -> ParamCount: weights without the pre-norm (total and per-token active).
        kv_cache(spec, kv_bytes, tp) -> (bytes per cached token per GPU, window or None): K/V (or
            latent) cache; a window caps the cached tokens. Default: no cache.
        state_bytes_per_seq(spec, state_bytes, act_bytes, tp) -> float: recurrent state and conv
            windows of one sequence per GPU. Default: 0.
        activation_width(spec, hidden) -> float: values per token of the widest intermediate the
            sublayer materialises (memory.activation_bytes_per_token takes the max over layers).
        kernels(spec, b) -> list[Kernel]: the kernels of one instance for the step `b` describes,
            pre-norm and TP all-reduce included; every Kernel carries its KernelRole.
        loss_kind(spec) -> str | None: key in accuracy.scaling_law.OPERATOR_LOSS_OFFSET_NATS for
            token mixers. Default: None.
    """

    spec: ClassVar[type[_Strict]]
    mixes_tokens: ClassVar[bool] = False
    opens_layer: ClassVar[bool | None] = None
    softmax_attention: ClassVar[bool] = False
    channel_mixer: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return self.spec.model_fields["type"].default

    def params(self, spec, hidden: int) -> ParamCount:
        raise NotImplementedError

    def kv_cache(self, spec, kv_bytes: float, tp: int) -> tuple[float, int | None]:
        return 0.0, None

    def state_bytes_per_seq(self, spec, state_bytes: float, act_bytes: float, tp: int) -> float:
        return 0.0

    def activation_width(self, spec, hidden: int) -> float:
        raise NotImplementedError

    def kernels(self, spec, b: StepBuilder) -> list[Kernel]:
        raise NotImplementedError

    def loss_kind(self, spec) -> str | None:
        return None


_KINDS: dict[str, LayerKind] = {}


def register_layer(cls: type[LayerKind]) -> type[LayerKind]:
    """Register one instance of `cls` under its spec's `type` literal."""
    kind = cls()
    if kind.name in _KINDS:
        raise ValueError(f"layer kind {kind.name!r} registered twice")
    if cls.opens_layer is None:
        cls.opens_layer = cls.mixes_tokens
    _KINDS[kind.name] = kind
    return cls


def layer_kind(spec) -> LayerKind:
    """The kind that owns `spec` (a spec instance or its `type` name)."""
    name = spec if isinstance(spec, str) else spec.type
    try:
        return _KINDS[name]
    except KeyError:
        raise PerfsimInputError(f"unknown layer kind {name!r}; allowed: {', '.join(_KINDS)}.") from None


def layer_kinds() -> tuple[LayerKind, ...]:
    """Every registered kind, in registration order."""
    return tuple(_KINDS.values())
