"""Mixture of experts: router, top-k routed experts (optionally in a latent width), and optional
always-on shared experts.

Tensor parallelism slices every expert's width over the TP GPUs. Expert parallelism
(Execution.expert_parallel, EP dividing TP) places num_experts / EP whole experts on each group of
TP / EP GPUs instead, as vLLM, SGLang and TensorRT-LLM do at data parallelism 1: every GPU already
holds every token (attention is TP-sharded), so dispatch is local and the combine is the TP
all-reduce of the partial outputs (SGLang's default `--moe-a2a-backend none`). With LatentMoE and no
shared experts that reduction runs in the latent width before the replicated up-projection, so its
bytes shrink by hidden / latent_dim: the saving LatentMoE claims for expert-parallel communication.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from perfsim.errors import PerfsimInputError
from perfsim.layers.base import TOKEN, Kernel, LayerKind, ParamCount, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.layers.mlp import ffn_kernels, mlp_params
from perfsim.ops import MoE
from perfsim.spec.base import GATED_ACTIVATIONS, Activation, PosInt, _Strict


class MoESpec(_Strict):
    """Routed experts (top-k of num_experts) plus optional always-on shared experts.

    `latent_dim` (LatentMoE) projects tokens to a smaller width before the routed experts.
    """

    type: Literal["moe"] = "moe"
    num_experts: PosInt
    top_k: PosInt
    expert_intermediate_size: PosInt
    num_shared_experts: int = Field(default=0, ge=0)
    shared_intermediate_size: int = Field(default=0, ge=0)
    activation: Activation = "swiglu"
    expert_bias: bool = False
    router_bias: bool = False
    latent_dim: PosInt | None = None

    @property
    def gated(self) -> bool:
        return self.activation in GATED_ACTIVATIONS

    @model_validator(mode="after")
    def _topk_range(self) -> MoESpec:
        if self.top_k > self.num_experts:
            raise ValueError(
                f"top_k ({self.top_k}) must be <= num_experts ({self.num_experts})"
            )
        if self.num_shared_experts and not self.shared_intermediate_size:
            raise ValueError("shared_intermediate_size must be > 0 when num_shared_experts > 0")
        return self


@register_layer
class MoEKind(LayerKind):
    spec = MoESpec
    channel_mixer = True

    def params(self, spec: MoESpec, hidden: int) -> ParamCount:
        width = spec.latent_dim or hidden
        expert = mlp_params(width, spec.expert_intermediate_size, spec.gated, spec.expert_bias)
        router = hidden * spec.num_experts + (spec.num_experts if spec.router_bias else 0)
        latent = 2 * hidden * spec.latent_dim if spec.latent_dim else 0
        shared = spec.num_shared_experts * mlp_params(hidden, spec.shared_intermediate_size, spec.gated)
        always = router + latent + shared
        return ParamCount(always + spec.num_experts * expert, always + spec.top_k * expert)

    def activation_width(self, spec: MoESpec, hidden: int) -> float:
        return spec.top_k * (spec.expert_intermediate_size * (3 if spec.gated else 2) + hidden)

    def kernels(self, spec: MoESpec, b: StepBuilder) -> list[Kernel]:
        width = spec.latent_dim or b.h
        f = expert_width(spec, b.tp, b.ep)
        out = [b.pre_norm()]
        if spec.latent_dim:
            out.append(Kernel("latent_down", b.gemm(b.t, spec.latent_dim, b.h), TOKEN))
        out.append(Kernel("experts", MoE(b.t, width, f, spec.num_experts, spec.top_k, spec.gated,
                                         b.a, b.wd, expert_parallel=b.ep,
                                         load_imbalance=b.expert_load_imbalance,
                                         every_copy=b.moe_ep_every_copy), TOKEN))
        # expert-parallel combine in the latent width when nothing else needs a reduction in h
        latent_combine = b.ep > 1 and bool(spec.latent_dim) and not spec.num_shared_experts
        if latent_combine:
            out.append(Kernel("ep_combine", b.allreduce_op(b.t * width * b.ab), TOKEN))
        if spec.latent_dim:
            out.append(Kernel("latent_up", b.gemm(b.t, b.h, spec.latent_dim), TOKEN))
        if spec.num_shared_experts:
            fs = b.split(spec.num_shared_experts * spec.shared_intermediate_size, "shared expert width")
            out += ffn_kernels(b, fs, spec.gated, ("shared_up", "shared_act", "shared_down"))
        if latent_combine:
            return out
        if b.ep > 1:
            return [*out, Kernel("ep_combine", b.allreduce_op(b.t * b.h * b.ab), TOKEN)]
        return out + b.allreduce()


def expert_width(spec: MoESpec, tp: int, ep: int) -> int:
    """Intermediate width of one expert on one GPU: sliced over TP / EP GPUs; one sentence when
    the experts do not divide over EP or the width over TP / EP."""
    if spec.num_experts % ep:
        raise PerfsimInputError(f"expert_parallel {ep} must divide num_experts ({spec.num_experts}): "
                                f"each GPU group holds the same number of whole experts.")
    slices = tp // ep
    if spec.expert_intermediate_size % slices:
        who = f"tensor_parallel {tp}" if ep == 1 else f"tensor_parallel / expert_parallel ({tp}/{ep})"
        raise PerfsimInputError(f"{who} must divide expert_intermediate_size "
                                f"({spec.expert_intermediate_size}).")
    return spec.expert_intermediate_size // slices
