"""Uploaded models and devices: parsed with every problem listed, and carried in the URL.

An upload lives only in the browser session, so the loaded object (not the file) is packed into
a query parameter (`model_spec`, `hw_spec`): a shared or reloaded link rebuilds the same model
instead of opening an empty upload prompt.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import ValidationError

from perfsim.dashboard.codec import pack, unpack
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import parse_yaml
from perfsim.io.hf_import import model_from_hf_config
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

#: Query parameter holding the packed object, per upload kind.
BLOB_KEYS = {"model": "model_spec", "hardware": "hw_spec"}


def digest(data: bytes | str) -> str:
    """Short content hash: the identity of an upload for preset-bound defaults."""
    return hashlib.sha1(data.encode() if isinstance(data, str) else data).hexdigest()[:12]


def _rule(error) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"field '{field}' is not a known key (check the spelling against the schema)"
    if error["type"] == "missing":
        return f"field '{field}' is required but missing"
    rule = error["msg"].removeprefix("Value error, ")
    got = "" if isinstance(error.get("input"), dict | list) else f" (got {error.get('input')!r})"
    return f"field '{field}' is invalid: {rule[:1].lower()}{rule[1:]}{got}"


def describe_all(source: str, exc: ValidationError) -> str:
    """Every problem of a file, numbered in one sentence (pydantic's own list, reworded; a
    PerfsimInputError message stays on one line)."""
    problems = [_rule(e) for e in exc.errors()]
    if len(problems) == 1:
        return f"{source}: {problems[0]}."
    return f"{source} has {len(problems)} problems: " + "; ".join(
        f"({i}) {p}" for i, p in enumerate(problems, start=1)) + "."


def load_upload(kind: str, name: str, data: bytes) -> ModelSpec | HardwareProfile:
    """A model (HF config.json or perfsim YAML) or a device profile (perfsim YAML) from bytes."""
    text = data.decode("utf-8", errors="replace")
    if kind == "model" and name.endswith(".json"):
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PerfsimInputError(f"{name}: malformed JSON at line {exc.lineno}.") from None
        if not isinstance(config, dict):
            raise PerfsimInputError(f"{name}: expected a JSON object of config keys.")
        return model_from_hf_config(config, source=name)
    schema = ModelSpec if kind == "model" else HardwareProfile
    try:
        return schema.model_validate(parse_yaml(name, text))
    except ValidationError as exc:
        raise PerfsimInputError(describe_all(name, exc)) from None


def to_link(obj: ModelSpec | HardwareProfile) -> str:
    """The object as link text (`from_link` restores it exactly)."""
    return pack(obj.model_dump(mode="json"))


def from_link(kind: str, text: str) -> ModelSpec | HardwareProfile:
    """The object a `to_link` text holds; one sentence when the link is damaged or stale."""
    schema = ModelSpec if kind == "model" else HardwareProfile
    try:
        return schema.model_validate(unpack(text))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        raise PerfsimInputError(f"URL parameter {BLOB_KEYS[kind]}: the embedded {kind} could not be read "
                                f"({str(exc).splitlines()[0]}); upload the file again.") from None
