"""One exception type for bad input, so every front end can print one clear sentence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic is only a type here: `perfsim --help` need not import it
    from pydantic import ValidationError


class PerfsimInputError(ValueError):
    """Bad user input (file, field, value); its message is a single human sentence.

    Control characters in the message (a newline in a YAML key, a tab in a file name) are shown
    escaped, so the sentence stays on one line wherever the text inside it came from."""

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(str(message)))


def one_line(text: str) -> str:
    """`text` with every non-printable character escaped (`\\n`, `\\x00`), so it prints as one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def describe_validation_error(source: str | Path, error: ValidationError,
                              data: object = None) -> PerfsimInputError:
    """Turn pydantic's error list into one sentence naming the file, the field and the rule.

    With the validated `data`, the field path leaves out the tag pydantic inserts for a
    discriminated union (`operators.attn.num_heads`, not `operators.attn.attention.num_heads`)."""
    first = error.errors()[0]
    loc = _without_union_tags(first["loc"], data)
    kind = first["type"]
    if kind == "extra_forbidden":
        rule = "is not a known key (check the spelling against the schema)"
    elif kind == "missing":
        rule = "is required but missing"
    elif kind == "union_tag_invalid":
        context = first.get("ctx", {})
        loc = (*loc, context.get("discriminator", "'type'").strip("'"))
        rule = f"is invalid: {context.get('tag')!r} is not one of {context.get('expected_tags')}"
    else:
        rule = first["msg"].removeprefix("Value error, ")
        rule = f"is invalid: {rule[0].lower()}{rule[1:]}" if rule else "is invalid"
        if "input" in first and not isinstance(first["input"], dict | list):
            rule += f" (got {first['input']!r})"
    field = ".".join(str(part) for part in loc) or "(top level)"
    more = len(error.errors()) - 1
    suffix = f" ({more} more problem{'s' if more > 1 else ''} in the same file)" if more else ""
    return PerfsimInputError(f"{source}: field '{field}' {rule}{suffix}.")


def _without_union_tags(loc: tuple, data: object) -> tuple:
    """`loc` without the parts that name a union member rather than a key of `data`."""
    if data is None:
        return tuple(loc)
    kept = []
    for part in loc:
        if isinstance(data, dict):
            if part not in data and data.get("type") == part:
                continue  # the discriminator's tag: the member chosen, not a field
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            data = None
        kept.append(part)
    return tuple(kept)
