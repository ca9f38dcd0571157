"""Change the hidden size, with the widths that depend on it scaled by the same ratio, as
width-scaled model families do (Llama, Qwen and Nemotron sizes keep head size and GQA group
while heads, FFN and expert widths follow the hidden size). Parameters then scale about
quadratically with the ratio; expert counts, top-k and state sizes stay."""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.spec.model import AttentionSpec, LinearAttentionSpec, Mamba2Spec, MLPSpec, ModelSpec, MoESpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import validated
from perfsim.transforms.sizing import scaled


def scale_operator(spec, ratio: float):
    """`spec` in a model `ratio` times as wide; heads are rounded to keep their grouping."""
    if isinstance(spec, AttentionSpec):  # keep head_dim and the GQA group size
        kv = max(1, int(round(spec.num_kv_heads * ratio)))
        update = {"num_kv_heads": kv, "num_heads": kv * (spec.num_heads // spec.num_kv_heads)}
    elif isinstance(spec, Mamba2Spec):
        g = spec.n_groups
        update = {"num_heads": max(g, int(round(spec.num_heads * ratio / g)) * g)}
    elif isinstance(spec, LinearAttentionSpec):
        update = {"num_heads": max(1, int(round(spec.num_heads * ratio)))}
    elif isinstance(spec, MLPSpec):
        update = {"intermediate_size": scaled(spec.intermediate_size, ratio)}
    elif isinstance(spec, MoESpec):
        update = {"expert_intermediate_size": scaled(spec.expert_intermediate_size, ratio)}
        if spec.shared_intermediate_size:
            update["shared_intermediate_size"] = scaled(spec.shared_intermediate_size, ratio)
        if spec.latent_dim:
            update["latent_dim"] = scaled(spec.latent_dim, ratio)
    else:  # a linear stand-in is hidden x hidden already
        return spec
    return spec.model_copy(update=update)


@register_transform("width")
@dataclass(frozen=True)
class Width(Transform):
    """Set the hidden size to `hidden_size`; heads, FFN, expert and latent widths follow."""

    hidden_size: int

    def __post_init__(self) -> None:
        self.require_positive_int("hidden_size")

    def apply(self, model: ModelSpec) -> ModelSpec:
        if self.hidden_size == model.hidden_size:
            return model
        ratio = self.hidden_size / model.hidden_size
        data = model.model_dump()
        data.update(hidden_size=self.hidden_size,
                    operators={n: scale_operator(s, ratio).model_dump() for n, s in model.operators.items()})
        return validated(data, model.id)
