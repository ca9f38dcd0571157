"""Nested elastic submodels (Nemotron Elastic style): one checkpoint serves smaller models cut
along width (FFN / expert channels, Mamba heads, hidden size), depth (whole layers) and experts.

Which channels and layers a trained elastic model keeps comes from its importance ranking,
which perfsim does not know; costs depend only on how many are kept. When `depth_fraction`
is given without `drop_layers`, evenly spaced interior layers are dropped (first and last kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import Mamba2Spec, MLPSpec, ModelSpec, MoESpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import layer_spans, rebuild, validated
from perfsim.transforms.sizing import scaled


@register_transform("elastic")
@dataclass(frozen=True)
class ElasticSubmodel(Transform):
    """Fractions in (0, 1] of what to keep; 1.0 everywhere is the full model."""

    width_fraction: float = 1.0
    hidden_fraction: float = 1.0
    depth_fraction: float = 1.0
    expert_fraction: float = 1.0
    drop_layers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for field in ("width_fraction", "hidden_fraction", "depth_fraction", "expert_fraction"):
            value = getattr(self, field)
            if not isinstance(value, int | float) or not 0 < value <= 1:
                raise PerfsimInputError(f"elastic: {field} must be in (0, 1] (got {value!r}).")
        if self.drop_layers is not None:
            if not all(isinstance(i, int) for i in self.drop_layers):
                raise PerfsimInputError("elastic: drop_layers must be a list of integer layer indices.")
            object.__setattr__(self, "drop_layers", tuple(sorted(set(self.drop_layers))))

    def _edit(self, spec):
        w, e = self.width_fraction, self.expert_fraction
        if isinstance(spec, MLPSpec) and w < 1:
            return spec.model_copy(update={"intermediate_size": scaled(spec.intermediate_size, w)})
        if isinstance(spec, MoESpec) and (w < 1 or e < 1):
            experts = max(spec.top_k, int(round(spec.num_experts * e)))
            update = {"expert_intermediate_size": scaled(spec.expert_intermediate_size, w),
                      "num_experts": experts}
            if spec.shared_intermediate_size:
                update["shared_intermediate_size"] = scaled(spec.shared_intermediate_size, w)
            return spec.model_copy(update=update)
        if isinstance(spec, Mamba2Spec) and w < 1:
            g = spec.n_groups
            return spec.model_copy(update={"num_heads": max(g, int(round(spec.num_heads * w / g)) * g)})
        return spec

    def _dropped(self, model: ModelSpec) -> set[int]:
        spans = layer_spans(model)
        n = len(spans)
        if self.drop_layers is not None:
            bad = [i for i in self.drop_layers if not 0 <= i < n]
            if bad:
                raise PerfsimInputError(f"elastic: drop_layers {bad} out of range; {model.id} has {n} "
                                        f"layers.")
            return set(self.drop_layers)
        drop = int(round(n * (1 - self.depth_fraction)))
        if drop == 0:
            return set()
        if drop > n - 2:
            raise PerfsimInputError(f"elastic: depth_fraction {self.depth_fraction} would leave fewer than 2 "
                                    f"of the {n} layers of {model.id}.")
        return {int(i) for i in np.round(np.linspace(1, n - 2, drop))}

    def apply(self, model: ModelSpec) -> ModelSpec:
        dropped = self._dropped(model)
        gone = {p for i, span in enumerate(layer_spans(model)) if i in dropped for p in span}
        sequence = [(name, self._edit(spec)) for pos, (name, spec)
                    in enumerate(zip(model.sublayer_names, model.sublayers, strict=True)) if pos not in gone]
        hidden = scaled(model.hidden_size, self.hidden_fraction)
        unchanged = not gone and all(s == o for (_, s), o in zip(sequence, model.sublayers, strict=True))
        if unchanged and hidden == model.hidden_size:
            return model
        if unchanged:
            data = model.model_dump()
            data["hidden_size"] = hidden
            return validated(data, model.id)
        return rebuild(model, sequence, "elastic", hidden_size=hidden)
