"""A model's sublayers as an editable list, and back to a validated ModelSpec.

Transforms address sublayers by kind: `layers=[3, 5]` of an attention transform means the 4th
and 6th attention sublayers in execution order (for gpt-oss or Llama, decoder layers 3 and 5;
for a Nemotron-H pattern, the 4th and 6th '*'). Edited operators get fresh names derived from
the original (`attn_w8192`), identical operators share one name, and the sequence is folded
back into `blocks` with repeats so the result stays readable when written out as YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.layers import layer_kind, layer_kinds
from perfsim.spec.model import ModelSpec, OperatorSpec

#: Spec classes of the sublayers that open a new "layer" (the unit elastic depth removes): token
#: mixers and their stand-ins, as each layer kind declares (`LayerKind.opens_layer`).
LAYER_OPENERS = tuple(kind.spec for kind in layer_kinds() if kind.opens_layer)
#: Longest repeating period looked for when folding a sequence back into blocks.
MAX_PERIOD = 8

#: One concrete operator spec class (AttentionSpec, MoESpec, ...) that an edit works on.
S = TypeVar("S")


def positions(model: ModelSpec, kind: type | tuple[type, ...], layers: Sequence[int] | None,
              field: str) -> list[int]:
    """Flat sublayer positions of the requested kind-indexed layers (all of that kind if None)."""
    flat = [i for i, op in enumerate(model.sublayers) if isinstance(op, kind)]
    if layers is None:
        return flat
    bad = sorted({i for i in layers if not 0 <= i < len(flat)})
    if bad:
        raise PerfsimInputError(f"{field} {bad} out of range: {model.id} has {len(flat)} such sublayers "
                                f"(indices 0..{len(flat) - 1}).")
    return [flat[i] for i in sorted(set(layers))]


def replace_ops(model: ModelSpec, edits: Mapping[int, OperatorSpec | None], suffix: str,
                **updates) -> ModelSpec:
    """`model` with the sublayer at each position replaced (None removes it)."""
    names = list(model.sublayer_names)
    specs: list[tuple[str, OperatorSpec] | None] = [(n, model.operators[n]) for n in names]
    for pos, spec in edits.items():
        specs[pos] = None if spec is None else (names[pos], spec)
    kept = [s for s in specs if s is not None]
    if [s for _, s in kept] == list(model.sublayers) and not updates:
        return model
    return rebuild(model, kept, suffix, **updates)


def rebuild(model: ModelSpec, sequence: Sequence[tuple[str, OperatorSpec]], suffix: str,
            **updates) -> ModelSpec:
    """A model with exactly this (base name, operator) sequence, names deduplicated."""
    if not sequence:
        raise PerfsimInputError(f"the transform would leave {model.id} without any sublayer.")
    # unchanged operators keep their names; edited ones get `<base>_<suffix>`
    operators = {n: s for n, s in sequence if model.operators.get(n) == s}
    names: list[str] = []
    for base, spec in sequence:
        name = base if operators.get(base) == spec else _name_for(operators, base, spec, suffix)
        operators[name] = spec
        names.append(name)
    data = model.model_dump()
    data.update(operators={n: s.model_dump() for n, s in operators.items()},
                blocks=fold(names, [s for _, s in sequence]), layer_pattern=None, pattern_ops=None, **updates)
    return validated(data, model.id)


def _name_for(operators: dict[str, OperatorSpec], base: str, spec: OperatorSpec, suffix: str) -> str:
    for name, existing in operators.items():
        if existing == spec and (name == base or name.startswith(f"{base}_")):
            return name
    candidates = [base, f"{base}_{suffix}"] + [f"{base}_{suffix}{i}" for i in range(2, 10_000)]
    return next(c for c in candidates if c not in operators)


def fold(names: list[str], specs: Sequence[OperatorSpec]) -> list[dict]:
    """Greedy folding over layers (a mixer and the FFNs after it): at each layer take the
    period that covers the most layers with repeats >= 2; stretches without repeats become
    one block."""
    units: list[tuple[str, ...]] = []
    for name, spec in zip(names, specs, strict=True):
        if layer_kind(spec).opens_layer or not units:
            units.append((name,))
        else:
            units[-1] = (*units[-1], name)
    blocks: list[dict] = []
    literal: list[str] = []
    i = 0
    while i < len(units):
        best_p, best_r = 1, 1
        for p in range(1, MAX_PERIOD + 1):
            r = 1
            while i + (r + 1) * p <= len(units) and units[i + r * p: i + (r + 1) * p] == units[i: i + p]:
                r += 1
            if r >= 2 and p * r > best_p * best_r:
                best_p, best_r = p, r
        if best_r == 1:
            literal.extend(units[i])
            i += 1
            continue
        if literal:
            blocks.append({"ops": literal, "repeat": 1})
            literal = []
        blocks.append({"ops": [n for u in units[i: i + best_p] for n in u], "repeat": best_r})
        i += best_p * best_r
    if literal:
        blocks.append({"ops": literal, "repeat": 1})
    return blocks


def map_operators(model: ModelSpec, kind: type[S], edit: Callable[[S], OperatorSpec], suffix: str,
                  layers: Sequence[int] | None = None, field: str = "layers") -> ModelSpec:
    """Apply `edit` to the chosen sublayers of one kind (all of them when layers is None)."""
    edits: dict[int, OperatorSpec | None] = {}
    for pos in positions(model, kind, layers, field):
        spec = model.sublayers[pos]
        assert isinstance(spec, kind)  # positions() selects sublayers of this kind only
        new = edit(spec)
        if new != spec:
            edits[pos] = new
    return replace_ops(model, edits, suffix) if edits else model


def validated(data: dict, what: str) -> ModelSpec:
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(f"{what} (transformed)", exc) from None


def layer_spans(model: ModelSpec) -> list[range]:
    """Flat positions grouped into layers; a layer opens at a token mixer (or its linear
    stand-in) and holds the FFN/MoE sublayers after it."""
    spans: list[list[int]] = []
    for i, op in enumerate(model.sublayers):
        if layer_kind(op).opens_layer or not spans:
            spans.append([i])
        else:
            spans[-1].append(i)
    return [range(s[0], s[-1] + 1) for s in spans]
