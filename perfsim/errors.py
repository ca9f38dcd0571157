"""One exception type for bad input, so every front end can print one clear sentence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic is only a type here: `perfsim --help` need not import it
    from pydantic import ValidationError


class PerfsimInputError(ValueError):
    """Bad user input (file, field, value); its message is a single human sentence."""


def describe_validation_error(source: str | Path, error: ValidationError) -> PerfsimInputError:
    """Turn pydantic's error list into one sentence naming the file, the field and the rule."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        rule = "is not a known key (check the spelling against the schema)"
    elif kind == "missing":
        rule = "is required but missing"
    else:
        rule = first["msg"].removeprefix("Value error, ")
        rule = f"is invalid: {rule[0].lower()}{rule[1:]}" if rule else "is invalid"
        if "input" in first and not isinstance(first["input"], dict | list):
            rule += f" (got {first['input']!r})"
    more = len(error.errors()) - 1
    suffix = f" ({more} more problem{'s' if more > 1 else ''} in the same file)" if more else ""
    return PerfsimInputError(f"{source}: field '{field}' {rule}{suffix}.")
