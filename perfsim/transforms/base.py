"""Architecture transformations: Model -> Model functions that compose and leave a record.

Most efficient-LM work edits an existing model (Puzzle removes attention and shrinks FFNs per
layer, gpt-oss-puzzle windows attention and prunes experts, FFN Fusion merges FFN runs, KV in
FP8...). Each edit is a frozen dataclass registered under the name a variant YAML uses;
`apply_transforms` runs them in order and lists them in `ModelSpec.applied_transforms`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

from perfsim.errors import PerfsimInputError
from perfsim.registry import Registry
from perfsim.spec.model import ModelSpec
from perfsim.transforms.layout import validated

TRANSFORMS: Registry = Registry("transform", "name")


def register_transform(name: str):
    return TRANSFORMS.register(name)


@dataclass(frozen=True)
class Transform:
    """One edit. `apply` returns the model itself when the edit changes nothing."""

    name: ClassVar[str] = "transform"
    #: True when the edit leaves parameter counts unchanged (dtypes, windows, context length).
    keeps_params: ClassVar[bool] = False

    def __post_init__(self) -> None:
        layers = getattr(self, "layers", None)
        if layers is not None:
            if isinstance(layers, int) or not all(isinstance(i, int) for i in layers):
                raise PerfsimInputError(f"transform {self.name!r}: layers must be a list of integer indices.")
            object.__setattr__(self, "layers", tuple(sorted(set(layers))))

    def require_positive_int(self, field: str, *, optional: bool = False) -> None:
        """One sentence naming the transform and field unless it holds an integer >= 1 (or None
        when `optional`)."""
        value = getattr(self, field)
        if optional and value is None:
            return
        if not isinstance(value, int) or value < 1:
            raise PerfsimInputError(f"{self.name}: {field} must be a positive integer (got {value!r}).")

    def apply(self, model: ModelSpec) -> ModelSpec:
        raise NotImplementedError

    def describe(self) -> str:
        parts = [f"{f.name}={_fmt(getattr(self, f.name))}" for f in fields(self)
                 if getattr(self, f.name) is not None]
        return f"{self.name}({', '.join(parts)})"


def _fmt(value) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return "[" + ",".join(_runs(value)) + "]"
    return str(value)


def _runs(values: Sequence[int]) -> list[str]:
    """[0,1,2,5,7,8] -> ['0-2', '5', '7-8']: long layer lists stay readable."""
    out: list[str] = []
    start: int | None = values[0]  # None only after the last run is written
    for prev, cur in zip(values, [*values[1:], None], strict=True):
        if cur is None or cur != prev + 1:
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = cur
    return out


def make_transform(spec: Transform | Mapping) -> Transform:
    """A transform, or a YAML mapping `{name: ..., <parameters>}` naming a registered one."""
    if isinstance(spec, Transform):
        return spec
    if not isinstance(spec, Mapping) or "name" not in spec:
        names = ", ".join(sorted(TRANSFORMS.as_dict()))
        raise PerfsimInputError(f"a transform must be a mapping with a 'name' (one of {names}); "
                                f"got {spec!r}.")
    params = {k: v for k, v in spec.items() if k != "name"}
    return TRANSFORMS.create(str(spec["name"]), **params)


def apply_transforms(model: ModelSpec, transforms: Iterable[Transform | Mapping], *,
                     id: str | None = None, display_name: str | None = None) -> ModelSpec:
    """`model` after each transform in order, with their descriptions appended to
    `applied_transforms`. Published parameter counts survive only edits that keep them;
    published accuracy belonged to the original and is dropped."""
    base = model
    current = base
    done = list(base.applied_transforms or [])
    keeps = True
    steps = [make_transform(t) for t in transforms]
    for step in steps:
        current = step.apply(current)
        done.append(step.describe())
        keeps = keeps and step.keeps_params
    if not steps and id is None and display_name is None:
        return base
    data = current.model_dump()
    data.update(
        id=id or (f"{base.id}-variant" if steps else base.id),
        display_name=display_name or (f"{base.display_name} (transformed)" if steps else base.display_name),
        applied_transforms=done or None,
    )
    if steps:
        data["accuracy"] = None
        if not keeps:
            data.update(published_params=None, published_active_params=None)
    return validated(data, base.id)


def applied(model: ModelSpec) -> list[str]:
    """The transforms a model went through (empty for a model as published)."""
    return list(model.applied_transforms or [])
