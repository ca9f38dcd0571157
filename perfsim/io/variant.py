"""Variant model files: a base model plus a list of transforms, instead of a full description.

    schema_version: 1
    base: gpt-oss-120b            # a bundled id, or a YAML path relative to this file
    id: gpt-oss-puzzle-88b
    display_name: gpt-oss-puzzle-88B
    source: {url: ..., note: ...}
    published_params: 88.0e+9     # optional: counts, accuracy of the variant itself
    transforms:
      - {name: sliding_window, window: 8192, layers: [3, 5]}
      - {name: prune_experts, num_experts: 64, layers: [15, 17, 19]}

`perfsim.load_model` recognises the `base` key; everything else about the model comes from the
base after the transforms run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from perfsim.errors import PerfsimInputError
from perfsim.io.safe_yaml import strictly
from perfsim.spec.model import ModelSpec, PublishedAccuracy, Source, _Strict
from perfsim.transforms.base import apply_transforms
from perfsim.transforms.layout import validated


class VariantSpec(_Strict):
    schema_version: Literal[1] = 1
    base: str
    id: str
    display_name: str
    source: Source
    published_params: float | None = Field(default=None, gt=0)
    published_active_params: float | None = Field(default=None, gt=0)
    accuracy: PublishedAccuracy | None = None
    transforms: list[dict[str, Any]] = Field(min_length=1)


def parse_variant(source: str, data: dict) -> VariantSpec:
    """The variant file's fields, validated; bad input becomes one sentence naming the file."""
    return strictly(VariantSpec, source, data)


def base_reference(source: str, spec: VariantSpec) -> str:
    """The base model's id, or its path resolved relative to the variant file."""
    base = spec.base
    if base.endswith((".yaml", ".yml", ".json")) and not Path(base).is_absolute():
        base = str(Path(source).parent / base)
    return base


def build_variant(source: str, spec: VariantSpec, base: ModelSpec) -> ModelSpec:
    """The base model with the file's transforms applied and its own identity and sources."""
    try:
        model = apply_transforms(base, spec.transforms, id=spec.id, display_name=spec.display_name)
    except PerfsimInputError as exc:
        raise PerfsimInputError(f"{source}: {exc}") from None
    out = model.model_dump()
    out.update(source=spec.source.model_dump(), published_params=spec.published_params,
               published_active_params=spec.published_active_params,
               accuracy=spec.accuracy.model_dump() if spec.accuracy else None)
    return validated(out, spec.id)
