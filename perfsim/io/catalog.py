"""Finding and loading YAML catalogues: explicit path, then $PERFSIM_PATH, then bundled files.

Bundled files live in top-level hwprofiles/, models/ and runtimes/ in a source checkout; the wheel
force-includes them as perfsim/_data/{hwprofiles,models,runtimes}, read through importlib.resources.

Lookups are remembered with the stat stamps (modification time, size, inode) of every file and
folder they consulted, so a repeated `find` (every call that names its runtime, model or hardware
by id) costs a few stats instead of a read; an edited, added or removed file re-reads.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from perfsim.errors import PerfsimInputError
from perfsim.io.safe_yaml import parse_yaml, read_text

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
_NOUNS = {"hwprofiles": "hardware profile", "models": "model", "runtimes": "runtime"}
#: Lookups remembered; past this many they are all dropped (bounded memory).
MAX_LOOKUPS = 256


@lru_cache(maxsize=8)
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
    if _seen or not isinstance(name_or_path, str | Path):
        return _find(kind, name_or_path, _seen, None)
    return _LOOKUPS.find(kind, name_or_path)


class _Lookups:
    """Remembered lookups: (kind, name, $PERFSIM_PATH, working folder) -> the answer and the stamps
    of what it read. A lookup that touched something without a stamp (a packaged resource read
    through importlib.resources) is not remembered."""

    def __init__(self) -> None:
        self._found: dict[tuple, tuple[tuple[str, str], list[str], list]] = {}

    def find(self, kind: str, name: str | Path) -> tuple[str, str]:
        key = (kind, name, os.environ.get("PERFSIM_PATH", ""), os.getcwd())
        hit = self._found.get(key)
        if hit is not None and [_stamp(p) for p in hit[1]] == hit[2]:
            return hit[0]
        touched: list = []
        answer = _find(kind, name, (), touched)
        if touched and all(isinstance(p, Path) for p in touched):
            paths = [str(p) for p in touched]
            if len(self._found) >= MAX_LOOKUPS:
                self._found.clear()
            self._found[key] = (answer, paths, [_stamp(p) for p in paths])
        return answer


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _find(kind: str, name_or_path: str | os.PathLike, _seen: tuple[str, ...],
          touched: list | None) -> tuple[str, str]:
    """`find`, appending every file and folder it consults to `touched` (when given)."""
    noun = _NOUNS.get(kind, "model")
    if not isinstance(name_or_path, str | os.PathLike) or not str(name_or_path).strip() \
            or "\x00" in str(name_or_path):
        raise PerfsimInputError(f"expected a {noun} id or a path to a YAML file, got {name_or_path!r}.")
    candidate = Path(name_or_path)
    record = touched.append if touched is not None else (lambda _: None)
    try:
        is_path = candidate.suffix in (".yaml", ".yml", ".json") or candidate.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise PerfsimInputError(f"{str(candidate)[:80]}...: not a usable path ({exc.strerror}).") from None
    record(candidate)
    if is_path:
        return _follow_alias(kind, str(candidate), read_text(candidate, f"{noun} file"), _seen, touched)
    for directory in _consulted_dirs(kind, record):
        entry = directory / f"{name_or_path}.yaml"
        if entry.is_file():
            record(entry)
            display = f"{kind}/{name_or_path}.yaml"
            text = read_text(entry, f"{noun} file") if isinstance(entry, Path) else entry.read_text()
            return _follow_alias(kind, display, text, _seen, touched)
    raise PerfsimInputError(
        f"unknown {noun} '{name_or_path}'; known: {', '.join(list_ids(kind))} "
        f"(or pass a path to a YAML file)."
    )


def _consulted_dirs(kind: str, record) -> list[Traversable]:
    """search_dirs(kind), recording every $PERFSIM_PATH folder it looked at (present or not: a
    file added there would be found first); the bundled folder's file is recorded when read."""
    for p in os.environ.get("PERFSIM_PATH", "").split(os.pathsep):
        if p:
            record(Path(p) / kind)
            record(Path(p))
    return search_dirs(kind)


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


def _follow_alias(kind: str, source: str, text: str, seen: tuple[str, ...],
                  touched: list | None) -> tuple[str, str]:
    target = alias_target(source, text)
    if target is None:
        return source, text
    if target in seen:
        raise PerfsimInputError(f"{source}: alias cycle {' -> '.join((*seen, target))}.")
    return _find(kind, target, (*seen, target), touched)


#: The process's remembered lookups.
_LOOKUPS = _Lookups()

__all__ = ["alias_target", "bundled_dir", "find", "list_ids", "parse_yaml", "read_text", "search_dirs"]
