"""Dense feed-forward block: up (fused gate|up when gated), activation, down."""

from __future__ import annotations

from typing import Literal

from perfsim.layers.base import TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Elementwise
from perfsim.spec.base import GATED_ACTIVATIONS, Activation, PosInt, _Strict


class MLPSpec(_Strict):
    type: Literal["mlp"] = "mlp"
    intermediate_size: PosInt
    activation: Activation = "swiglu"
    bias: bool = False

    @property
    def gated(self) -> bool:
        return self.activation in GATED_ACTIVATIONS


def mlp_params(hidden: int, inner: int, gated: bool, bias: bool = False) -> float:
    """Weights (and biases) of a hidden -> inner -> hidden MLP; gated ones have two up matrices."""
    mats = (3 if gated else 2) * hidden * inner
    return mats + ((2 if gated else 1) * inner + hidden if bias else 0)


def ffn_kernels(b: StepBuilder, inner: int, gated: bool,
                names: tuple[str, str, str] = ("up_proj", "activation", "down_proj")) -> list[Kernel]:
    """Up, activation and down kernels of an MLP of per-GPU width `inner`."""
    up = inner * (2 if gated else 1)
    return [Kernel(names[0], b.gemm(b.t, up, b.h), TOKEN),
            Kernel(names[1], Elementwise("act", b.t * up * b.ab, b.t * inner * b.ab), TOKEN),
            Kernel(names[2], b.gemm(b.t, b.h, inner), TOKEN)]


@register_layer
class MLPKind(LayerKind):
    spec = MLPSpec
    channel_mixer = True

    def params(self, spec: MLPSpec, hidden: int) -> ParamCount:
        return dense(mlp_params(hidden, spec.intermediate_size, spec.gated, spec.bias))

    def activation_width(self, spec: MLPSpec, hidden: int) -> float:
        return spec.intermediate_size * (3 if spec.gated else 2)

    def kernels(self, spec: MLPSpec, b: StepBuilder) -> list[Kernel]:
        f = b.split(spec.intermediate_size, "intermediate_size")
        return [b.pre_norm(), *ffn_kernels(b, f, spec.gated), *b.allreduce()]
