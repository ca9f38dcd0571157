"""Name -> class registries for extension points (ops, decoding strategies, later schedulers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Classes registered under the name used in YAML and breakdowns; the name is also written to
    the class attribute `name_attr` so instances can report it."""

    def __init__(self, kind: str, name_attr: str):
        self.kind, self.name_attr = kind, name_attr
        self._classes: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(cls: T) -> T:
            if name in self._classes:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            setattr(cls, self.name_attr, name)
            self._classes[name] = cls
            return cls

        return deco

    def as_dict(self) -> dict[str, T]:
        return dict(self._classes)
