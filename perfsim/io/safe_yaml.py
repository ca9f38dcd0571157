"""The one door every YAML or JSON input comes through: read as UTF-8, parse safely, refuse nonsense.

A file that is missing, a folder, empty, not UTF-8, nested absurdly deep, an alias bomb, a mapping
with a key given twice, or a number that is NaN or infinite is one sentence naming the file (and
the field), before any schema sees it. PyYAML alone would read the last duplicate key silently,
expand `*alias` references without bound inside later error messages, recurse until
RecursionError on deep nesting, and read `1e9` as a string; this loader does none of that.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from perfsim.errors import PerfsimInputError, describe_validation_error

if TYPE_CHECKING:
    from pydantic import BaseModel

    Schema = TypeVar("Schema", bound=BaseModel)

#: Largest input file read (bytes): every real description is a few kB.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Deepest nesting of mappings and lists (a real description nests at most about 6 levels).
MAX_DEPTH = 64
#: Alias references (`*name`) allowed in one file; each may stand for a large subtree.
MAX_ALIASES = 256
#: Values in the document with aliases expanded (guards against "billion laughs").
MAX_NODES = 200_000
#: Largest magnitude of any number in a description: above every real figure (the fastest
#: accelerator's FLOP/s is about 2e16, training corpora about 4e13 tokens), so 1e30 is a typo.
MAX_MAGNITUDE = 1e18


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats (`1e9`), nesting and alias limits, and no duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"uses more than {MAX_ALIASES} aliases (*name); write the values out")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"is nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key (a list): the constructor reports it
                continue
            if duplicate:
                line = key_node.start_mark.line + 1
                raise _Refused(f"gives key {key!r} twice (line {line}); keep one")
        return super().construct_mapping(node, deep=deep)


class _Refused(Exception):
    """A structural limit; the message completes "FILE ..."."""


# YAML 1.2 reads 1e9 and 1.5E-3 as floats; PyYAML (YAML 1.1) wants a dot and a signed exponent.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The file's text, or one sentence: missing, a folder, too large, empty or not UTF-8."""
    path = Path(path)
    shown = str(path) if len(str(path)) <= 200 else f"{str(path)[:60]}..."
    try:
        info = path.stat()
    except FileNotFoundError:
        raise PerfsimInputError(f"{shown}: file not found.") from None
    except OSError as exc:  # a name too long, a loop of links, no permission
        raise PerfsimInputError(f"{shown}: cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise PerfsimInputError(f"{shown} is a folder; give the path of a {what}.")
    if not stat.S_ISREG(info.st_mode):
        raise PerfsimInputError(f"{shown}: not a regular file; give the path of a {what}.")
    size = info.st_size
    if size > MAX_FILE_BYTES:
        raise PerfsimInputError(f"{shown}: the file is {size:,} bytes; a {what} must be under "
                                f"{MAX_FILE_BYTES // 1024 // 1024} MiB.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PerfsimInputError(f"{shown}: not a UTF-8 text file (byte {exc.start} cannot be decoded); "
                                f"save it as UTF-8.") from None
    except OSError as exc:
        raise PerfsimInputError(f"{shown}: cannot be read ({exc.strerror or exc}).") from None
    if not text.strip():
        raise PerfsimInputError(f"{shown}: the file is empty; a {what} needs at least one key.")
    return text


def parse_yaml(source: str, text: str) -> dict:
    """A YAML mapping, checked for the structural limits and finite numbers; else one sentence."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except _Refused as exc:
        raise PerfsimInputError(f"{source}: the YAML {exc}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PerfsimInputError(f"{source}: malformed YAML{where}.") from None
    except RecursionError:
        raise PerfsimInputError(f"{source}: the YAML is nested deeper than {MAX_DEPTH} levels.") from None
    return checked(source, data, "YAML")


def parse_json(source: str, text: str) -> dict:
    """A JSON object, with duplicate keys, NaN/Infinity and absurd nesting refused in one sentence."""

    def constant(name: str) -> float:
        raise PerfsimInputError(f"{source}: {name} is not a number perfsim accepts (finite numbers only).")

    def pairs(items: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in items]
        for key in keys:
            if keys.count(key) > 1:
                raise PerfsimInputError(f"{source}: key {key!r} is given twice in one JSON object; keep one.")
        return dict(items)

    try:
        data = json.loads(text, parse_constant=constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise PerfsimInputError(f"{source}: malformed JSON at {where}.") from None
    except RecursionError:
        raise PerfsimInputError(f"{source}: the JSON is nested deeper than {MAX_DEPTH} levels.") from None
    return checked(source, data, "JSON")


def checked(source: str, data: Any, language: str = "YAML") -> dict:
    """`data` if it is a mapping within the size and depth limits whose numbers are all finite."""
    if not isinstance(data, dict):
        got = "nothing" if data is None else f"a {_kind(data)}"
        raise PerfsimInputError(f"{source}: expected a mapping of keys at the top level, got {got}.")
    budget = [MAX_NODES]
    _walk(source, data, (), budget, language)
    return data


def strictly(schema: type[Schema], source: str, data: dict) -> Schema:
    """`data` validated as `schema` in strict mode, so `true` is not 1, "8" is not 8 and 8.5 is not an
    integer (validating the JSON form still lets lists stand for tuples and strings for enums)."""
    from pydantic import ValidationError

    if isinstance(data.get("schema_version"), bool):  # Literal[1] would take `true` as 1
        raise PerfsimInputError(f"{source}: field 'schema_version' must be the number 1 "
                                f"(got {data['schema_version']!r}).")
    try:
        return schema.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        raise describe_validation_error(source, exc, data) from None


def _walk(source: str, value: Any, path: tuple, budget: list[int], language: str) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise PerfsimInputError(f"{source}: the {language} holds more than {MAX_NODES:,} values "
                                f"(aliases expanded); a description is far smaller.")
    if len(path) > MAX_DEPTH:
        raise PerfsimInputError(f"{source}: the {language} is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, int | float) and not isinstance(value, bool):
        field = ".".join(str(p) for p in path) or "(top level)"
        if not math.isfinite(value):
            raise PerfsimInputError(f"{source}: field '{field}' is {value}; it must be a finite number.")
        if abs(value) > MAX_MAGNITUDE:
            raise PerfsimInputError(f"{source}: field '{field}' is {value:.3g}; numbers in a description "
                                    f"must be at most {MAX_MAGNITUDE:.0e} in magnitude.")
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(source, item, (*path, key), budget, language)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(source, item, (*path, i), budget, language)


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__)
