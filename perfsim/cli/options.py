"""Option groups defined once and shared by several commands.

typer reads a command's options from its signature. An option group (the output format, the
decoding flags) is written once here as a decorator that appends its options to a command's
signature and hands the command one value built from them, so predict, simulate and rollout
cannot drift apart. `guard` turns a PerfsimInputError raised inside a command into one sentence
and exit status 2 also when the app runs without `perfsim.cli.main` (typer's CliRunner).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from perfsim.cli.output import Format, fail
from perfsim.errors import PerfsimInputError


def option_group(target: str, options: dict[str, tuple[Any, Any]],
                 build: Callable[[dict[str, Any]], Any]) -> Callable[[Callable], Callable]:
    """Decorator: add `options` ({name: (type, typer.Option)}) to a command and call it with
    `target=build(values of those options)` instead."""

    def deco(func: Callable) -> Callable:
        signature = inspect.signature(func)
        kept = [p for p in signature.parameters.values() if p.name != target]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind)
                 for name, (kind, info) in options.items()]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            values = {name: kwargs.pop(name) for name in options}
            return func(*args, **kwargs, **{target: build(values)})

        wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
        annotations = {k: v for k, v in func.__annotations__.items() if k != target}
        wrapper.__annotations__ = {**annotations, **{name: kind for name, (kind, _) in options.items()}}
        return wrapper

    return deco


def _format(values: dict[str, Any]) -> Format:
    return Format.json if values["as_json"] else Format.csv if values["as_csv"] else values["fmt"]


formatted = option_group("fmt", {
    "fmt": (Format, typer.Option(Format.table, "--format", "-f", help="table, json or csv")),
    "as_json": (bool, typer.Option(False, "--json", help="same as --format json")),
    "as_csv": (bool, typer.Option(False, "--csv", help="same as --format csv")),
}, _format)
"""Adds `--format/-f table|json|csv` with `--json` and `--csv` aliases; the command gets `fmt`."""


def guard(func: Callable) -> Callable:
    """Run a command, turning a PerfsimInputError into one sentence on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PerfsimInputError as exc:
            fail(str(exc))

    return wrapper


runtime_option = option_group("runtime", {
    "runtime": (str | None, typer.Option(
        None, "--runtime", help="serving runtime id or YAML path (see `perfsim list runtimes`): its "
                                "kernels, CUDA graphs, scheduler defaults and host costs; default: none "
                                "(runtime-free: no host costs, CUDA graphs, whole-prompt memory)")),
}, lambda values: values["runtime"])
"""Adds `--runtime ID|PATH`; the command gets `runtime` (None when not given)."""
