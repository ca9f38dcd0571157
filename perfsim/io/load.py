"""Public loaders: `load_hardware` and `load_model` accept an id, a YAML path or an HF config.json."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache

from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.io.catalog import find, parse_yaml
from perfsim.io.variant import base_reference, build_variant, parse_variant
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.transforms import Transform
from perfsim.transforms import apply_transforms as _apply_transforms


def load_hardware(name_or_path: str | os.PathLike | HardwareProfile) -> HardwareProfile:
    """A bundled profile id (`perfsim list hardware`), a YAML path, or a profile (returned as is)."""
    if isinstance(name_or_path, HardwareProfile):
        return name_or_path
    source, text = find("hwprofiles", name_or_path)
    return _validated(HardwareProfile, source, text)


def load_model(name_or_path: str | os.PathLike | ModelSpec) -> ModelSpec:
    """A bundled model id (`perfsim list models`), a perfsim YAML, or a Hugging Face config.json."""
    if isinstance(name_or_path, ModelSpec):
        return name_or_path
    source, text = find("models", name_or_path)
    if source.endswith(".json"):
        from perfsim.io.hf_import import model_from_hf_config

        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PerfsimInputError(f"{source}: malformed JSON at line {exc.lineno}.") from None
        return model_from_hf_config(config, source=source)
    return _validated(ModelSpec, source, text)


@lru_cache(maxsize=256)
def _validated(schema: type[HardwareProfile] | type[ModelSpec], source: str, text: str):
    """Parse and validate once per (schema, file contents); bad input becomes one sentence."""
    data = parse_yaml(source, text)
    if schema is ModelSpec and "base" in data:  # a variant file: base model + transforms
        spec = parse_variant(source, data)
        return build_variant(source, spec, load_model(base_reference(source, spec)))
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(source, exc) from None


def apply_transforms(model: str | os.PathLike | ModelSpec, transforms: Iterable[Transform | Mapping], *,
                     id: str | None = None, display_name: str | None = None) -> ModelSpec:
    """`perfsim.transforms.apply_transforms` on a model given by id, path or spec (the front door)."""
    return _apply_transforms(load_model(model), transforms, id=id, display_name=display_name)
