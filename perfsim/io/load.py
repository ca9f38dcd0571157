"""Public loaders: `load_hardware`, `load_model` and `load_runtime` accept an id or a YAML path
(`load_model` also an HF config.json); each validates once per file contents (lru_cache)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import find
from perfsim.io.safe_yaml import parse_json, parse_yaml, strictly
from perfsim.io.variant import base_reference, build_variant, parse_variant
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.spec.runtime import RuntimeProfile
from perfsim.transforms import Transform
from perfsim.transforms import apply_transforms as _apply_transforms


def load_hardware(name_or_path: str | os.PathLike | HardwareProfile) -> HardwareProfile:
    """A bundled profile id (`perfsim list hardware`), a YAML path, or a profile (returned as is).

    An alias id (a file `alias_of: <id>`, e.g. jetson-orin-nano-8gb) loads its target under the alias id."""
    if isinstance(name_or_path, HardwareProfile):
        return name_or_path
    source, text = find("hwprofiles", name_or_path)
    profile = _validated(HardwareProfile, source, text)
    if source.startswith("hwprofiles/") and source != f"hwprofiles/{name_or_path}.yaml":
        return _aliased(source, text, str(name_or_path))  # an alias id keeps its own name
    return profile


@lru_cache(maxsize=64)
def _aliased(source: str, text: str, alias: str) -> HardwareProfile:
    """The target profile under the alias id (same numbers, power_mode and sources)."""
    return _validated(HardwareProfile, source, text).model_copy(update={"id": alias})


def load_model(name_or_path: str | os.PathLike | ModelSpec) -> ModelSpec:
    """A bundled model id (`perfsim list models`), a perfsim YAML, or a Hugging Face config.json."""
    if isinstance(name_or_path, ModelSpec):
        return name_or_path
    return _load_model(name_or_path, ())


#: Most `base:` links from a variant file down to a full model description.
MAX_BASE_CHAIN = 16


def _load_model(name_or_path: str | os.PathLike, chain: tuple[str, ...]) -> ModelSpec:
    """`chain` holds the variant files (resolved paths) that led here, to refuse a base cycle."""
    source, text = find("models", name_or_path)
    if source.endswith(".json"):
        from perfsim.io.hf_import import model_from_hf_config

        return model_from_hf_config(parse_json(source, text), source=source)
    if chain and _identity(source) in chain:  # (resolving a path costs more than the lookup)
        loop = " -> ".join((*chain, _identity(source)))
        raise PerfsimInputError(f"{chain[0]}: field 'base' leads back to a file already in its chain "
                                f"({loop}); a base chain must end at a model without `base:`.")
    if len(chain) > MAX_BASE_CHAIN:
        raise PerfsimInputError(f"{chain[0]}: field 'base' chains more than {MAX_BASE_CHAIN} variant files; "
                                f"a base chain must end at a model without `base:`.")
    return _validated(ModelSpec, source, text, chain)


@lru_cache(maxsize=256)
def _validated(schema: type[HardwareProfile] | type[ModelSpec], source: str, text: str,
               chain: tuple[str, ...] = ()):
    """Parse and validate once per (schema, file contents); bad input becomes one sentence."""
    data = parse_yaml(source, text)
    if schema is ModelSpec and "base" in data:  # a variant file: base model + transforms
        spec = parse_variant(source, data)
        try:
            base = _load_model(base_reference(source, spec), (*chain, _identity(source)))
        except PerfsimInputError as exc:
            if source in str(exc):
                raise
            raise PerfsimInputError(f"{source}: field 'base' is invalid: {exc}") from None
        return build_variant(source, spec, base)
    return strictly(schema, source, data)


def load_runtime(name_or_path: str | os.PathLike | RuntimeProfile) -> RuntimeProfile:
    """A bundled runtime id (`perfsim list runtimes`), a YAML path, or a profile (returned as is).

    A file with `base: <id or path>` holds only what differs from its base: it is deep-merged onto
    the base (itself possibly based on another) and validated as a whole, so a user runtime stays
    a few lines and follows the bundled file when that is corrected. Without its own `id` it takes
    the file's name."""
    if isinstance(name_or_path, RuntimeProfile):
        return name_or_path
    source, text = find("runtimes", name_or_path)
    return _validated_runtime(source, text)


@lru_cache(maxsize=128)
def _validated_runtime(source: str, text: str) -> RuntimeProfile:
    profile = strictly(RuntimeProfile, source, _runtime_data(source, text, ()))
    _check_schedulers(source, profile)
    return profile


def _runtime_data(source: str, text: str, chain: tuple[str, ...]) -> dict:
    """The file's mapping with its `base:` chain merged in; `chain` holds the files below it."""
    data = parse_yaml(source, text)
    if "base" not in data:
        return data
    base = data.pop("base")
    if not isinstance(base, str) or not base:
        raise PerfsimInputError(f"{source}: field 'base' must be a runtime id or a YAML path (got {base!r}).")
    try:
        base_source, base_text = find("runtimes", _beside(source, base))
    except PerfsimInputError as exc:
        raise PerfsimInputError(f"{source}: field 'base' is invalid: {exc}") from None
    seen = (*chain, source)
    if _identity(base_source) == _identity(source):
        raise PerfsimInputError(f"{source}: field 'base' names the file itself; a base chain must end at "
                                f"a runtime without `base:`.")
    if _identity(base_source) in {_identity(s) for s in seen}:
        loop = " -> ".join((*seen, base_source))
        raise PerfsimInputError(f"{seen[0]}: field 'base' leads back to a file already in its chain "
                                f"({loop}); a base chain must end at a runtime without `base:`.")
    base_data = _runtime_data(base_source, base_text, seen)
    merged = _deep_merge(base_data, data)
    if "calibration" not in data:  # it runs its base's kernels
        merged["calibration"] = base_data.get("calibration") or base_data.get("id")
    if "id" not in data:
        merged["id"] = Path(source).name.removesuffix(".yaml").removesuffix(".yml")
    return merged


def _beside(source: str, base: str) -> str:
    """A relative YAML path in `base:` is read next to the file that names it."""
    path = Path(base)
    if path.suffix in (".yaml", ".yml") and not path.is_absolute() and Path(source).is_file():
        return str(Path(source).parent / path)
    return base


def _identity(source: str) -> str:
    path = Path(source)
    return str(path.resolve()) if path.is_file() else source


def _deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        old = merged.get(key)
        merged[key] = _deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def _check_schedulers(source: str, profile: RuntimeProfile) -> None:
    """Scheduler names are checked here, not in the schema, so that importing perfsim.spec never
    imports the simulator (perfsim.sim owns the scheduler registry)."""
    from perfsim.sim.scheduler import registered_schedulers

    known = registered_schedulers()
    places = [("scheduler.policy", profile.scheduler.policy)] + [
        (f"devices.{arch}.scheduler.policy", override.scheduler.policy)
        for arch, override in profile.devices.items() if override.scheduler is not None]
    for field, name in places:
        if name not in known:
            raise PerfsimInputError(f"{source}: field '{field}' is invalid: unknown scheduler {name!r}; "
                                    f"allowed: {', '.join(sorted(known))}.")


def apply_transforms(model: str | os.PathLike | ModelSpec, transforms: Iterable[Transform | Mapping], *,
                     id: str | None = None, display_name: str | None = None) -> ModelSpec:
    """`perfsim.transforms.apply_transforms` on a model given by id, path or spec (the front door)."""
    return _apply_transforms(load_model(model), transforms, id=id, display_name=display_name)
