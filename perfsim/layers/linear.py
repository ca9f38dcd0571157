"""Puzzle's linear stand-in for an attention sublayer (Llama-3.1-Nemotron-51B "linear" blocks)."""

from __future__ import annotations

from typing import Literal

from perfsim.layers.base import TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.spec.base import _Strict


class LinearSpec(_Strict):
    """One hidden x hidden projection with its pre-norm: Puzzle's cheap stand-in for an attention
    sublayer ("linear" blocks of Llama-3.1-Nemotron-51B); it mixes no tokens and keeps no cache."""

    type: Literal["linear"] = "linear"
    bias: bool = False


@register_layer
class LinearKind(LayerKind):
    spec = LinearSpec
    opens_layer = True  # it replaces a mixer, so it still opens a layer

    def params(self, spec: LinearSpec, hidden: int) -> ParamCount:
        return dense(hidden * hidden + (hidden if spec.bias else 0))

    def activation_width(self, spec: LinearSpec, hidden: int) -> float:
        return hidden

    def kernels(self, spec: LinearSpec, b: StepBuilder) -> list[Kernel]:
        # column-parallel under TP; gathering the output costs about what an all-reduce does
        out = b.split(b.h, "hidden_size")
        return [b.pre_norm(), Kernel("linear", b.gemm(b.t, out, b.h), TOKEN), *b.allreduce()]
