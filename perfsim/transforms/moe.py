"""MoE edits: expert pruning per layer and top-k (gpt-oss-puzzle), LatentMoE projection.

Pruning cuts total parameters (memory) but not per-token compute at the same top-k; at decode
it also lowers the weight bytes read, because a batch touches a larger share of fewer experts
(`perfsim.ops.moe.experts_touched`). LatentMoE (arXiv 2601.18089) routes tokens in a latent
width l < d: experts shrink by d/l, so `expert_scale` more experts and top-k fit the same
compute, with a d->l down and l->d up projection around them.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import ModelSpec, MoESpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import map_operators


@register_transform("prune_experts")
@dataclass(frozen=True)
class PruneExperts(Transform):
    """Keep `num_experts` routed experts in the chosen MoE layers (indices among MoE sublayers);
    top-k stays unless `top_k` is given (and is capped at the experts kept)."""

    num_experts: int
    layers: tuple[int, ...] | None = None
    top_k: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_positive_int("num_experts", optional=True)
        self.require_positive_int("top_k", optional=True)

    def apply(self, model: ModelSpec) -> ModelSpec:
        def edit(spec: MoESpec) -> MoESpec:
            if self.num_experts > spec.num_experts:
                raise PerfsimInputError(
                    f"prune_experts: num_experts {self.num_experts} exceeds the {spec.num_experts} experts "
                    f"of {model.id}; pruning cannot add experts."
                )
            top_k = min(self.top_k or spec.top_k, self.num_experts)
            return spec.model_copy(update={"num_experts": self.num_experts, "top_k": top_k})

        return map_operators(model, MoESpec, edit, f"e{self.num_experts}", self.layers,
                             "prune_experts layers")


@register_transform("top_k")
@dataclass(frozen=True)
class TopK(Transform):
    """Route each token to `top_k` experts in the chosen MoE layers."""

    top_k: int
    layers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_positive_int("top_k", optional=True)

    def apply(self, model: ModelSpec) -> ModelSpec:
        def edit(spec: MoESpec) -> MoESpec:
            if self.top_k > spec.num_experts:
                raise PerfsimInputError(f"top_k: {self.top_k} exceeds the {spec.num_experts} experts of "
                                        f"{model.id}.")
            return spec.model_copy(update={"top_k": self.top_k})

        return map_operators(model, MoESpec, edit, f"k{self.top_k}", self.layers, "top_k layers")


@register_transform("latent_moe")
@dataclass(frozen=True)
class LatentMoE(Transform):
    """Run the routed experts in width `latent_dim` (< hidden), with `expert_scale` times the
    experts and top-k (the paper's 'more experts, same compute' setting; 1 keeps them)."""

    latent_dim: int
    expert_scale: int = 1
    layers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_positive_int("latent_dim", optional=True)
        self.require_positive_int("expert_scale", optional=True)

    def apply(self, model: ModelSpec) -> ModelSpec:
        if self.latent_dim >= model.hidden_size:
            raise PerfsimInputError(f"latent_moe: latent_dim must be below hidden_size {model.hidden_size} "
                                    f"of {model.id} (got {self.latent_dim}).")

        def edit(spec: MoESpec) -> MoESpec:
            return spec.model_copy(update={"latent_dim": self.latent_dim,
                                           "num_experts": spec.num_experts * self.expert_scale,
                                           "top_k": spec.top_k * self.expert_scale})

        return map_operators(model, MoESpec, edit, f"l{self.latent_dim}", self.layers, "latent_moe layers")
