"""Finding and loading YAML catalogues: explicit path, then $PERFSIM_PATH, then bundled files.

Bundled files live in top-level hwprofiles/, models/ and runtimes/ in a source checkout; the wheel
force-includes them as perfsim/_data/{hwprofiles,models,runtimes}, read through importlib.resources.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from perfsim.errors import PerfsimInputError
from perfsim.io.safe_yaml import parse_yaml, read_text

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
_NOUNS = {"hwprofiles": "hardware profile", "models": "model", "runtimes": "runtime"}


def bundled_dir(kind: str) -> Traversable:
    """`kind` is 'hwprofiles', 'models' or 'runtimes'."""
    packaged = resources.files("perfsim") / "_data" / kind
    if packaged.is_dir():
        return packaged
    return _SOURCE_ROOT / kind


def search_dirs(kind: str) -> list[Traversable]:
    extra = [Path(p) / kind for p in os.environ.get("PERFSIM_PATH", "").split(os.pathsep) if p]
    extra += [Path(p) for p in os.environ.get("PERFSIM_PATH", "").split(os.pathsep) if p]
    return [d for d in extra if d.is_dir()] + [bundled_dir(kind)]


def list_ids(kind: str) -> list[str]:
    ids: set[str] = set()
    for directory in search_dirs(kind):
        ids.update(f.name[: -len(".yaml")] for f in directory.iterdir() if f.name.endswith(".yaml"))
    return sorted(ids)


def find(kind: str, name_or_path: str | os.PathLike, _seen: tuple[str, ...] = ()) -> tuple[str, str]:
    """Return (display path, text) for an id or a file path, or raise one clear sentence.

    A file holding only `alias_of: <id>` stands for that id: the target's path and text come back.
    """
    noun = _NOUNS.get(kind, "model")
    if not isinstance(name_or_path, str | os.PathLike) or not str(name_or_path).strip() \
            or "\x00" in str(name_or_path):
        raise PerfsimInputError(f"expected a {noun} id or a path to a YAML file, got {name_or_path!r}.")
    candidate = Path(name_or_path)
    try:
        is_path = candidate.suffix in (".yaml", ".yml", ".json") or candidate.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise PerfsimInputError(f"{str(candidate)[:80]}...: not a usable path ({exc.strerror}).") from None
    if is_path:
        return _follow_alias(kind, str(candidate), read_text(candidate, f"{noun} file"), _seen)
    for directory in search_dirs(kind):
        entry = directory / f"{name_or_path}.yaml"
        if entry.is_file():
            display = f"{kind}/{name_or_path}.yaml"
            text = read_text(entry, f"{noun} file") if isinstance(entry, Path) else entry.read_text()
            return _follow_alias(kind, display, text, _seen)
    raise PerfsimInputError(
        f"unknown {noun} '{name_or_path}'; known: {', '.join(list_ids(kind))} "
        f"(or pass a path to a YAML file)."
    )


def alias_target(source: str, text: str) -> str | None:
    """The id an alias file (`alias_of: <id>` and nothing else) stands for; None for other files."""
    if "alias_of" not in text or source.endswith(".json"):
        return None
    data = parse_yaml(source, text)
    if "alias_of" not in data:
        return None
    target = data["alias_of"]
    if set(data) != {"alias_of"} or not isinstance(target, str) or not target:
        raise PerfsimInputError(f"{source}: an alias file holds only 'alias_of: <id>' (comments aside).")
    return target


def _follow_alias(kind: str, source: str, text: str, seen: tuple[str, ...]) -> tuple[str, str]:
    target = alias_target(source, text)
    if target is None:
        return source, text
    if target in seen:
        raise PerfsimInputError(f"{source}: alias cycle {' -> '.join((*seen, target))}.")
    return find(kind, target, (*seen, target))


__all__ = ["alias_target", "bundled_dir", "find", "list_ids", "parse_yaml", "read_text", "search_dirs"]
