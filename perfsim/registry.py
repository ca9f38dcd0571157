"""Name -> class registries for extension points (ops, decoding strategies, workloads, schedulers,
routers)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from perfsim.errors import PerfsimInputError

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

    def create(self, name: str, **params):
        """An instance of the class registered as `name`; an unknown name or bad parameters are
        one sentence naming the allowed choices."""
        if name not in self._classes:
            allowed = ", ".join(sorted(self._classes))
            raise PerfsimInputError(f"unknown {self.kind} {name!r}; allowed: {allowed}.")
        try:
            return self._classes[name](**params)
        except TypeError as exc:
            raise PerfsimInputError(f"{self.kind} {name!r}: {exc}.") from None


def import_submodules(package: str, path: Iterable[str], first: Sequence[str] = (),
                      skip: Iterable[str] = ()) -> None:
    """Import every module of an extension package (`first` in that order, then the rest by name)
    so that a new layer kind, strategy, transform or accuracy model registers itself by existing."""
    rest = sorted(m.name for m in pkgutil.iter_modules(list(path)) if m.name not in {*first, *skip})
    for name in (*first, *rest):
        importlib.import_module(f"{package}.{name}")
