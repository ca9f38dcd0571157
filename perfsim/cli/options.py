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
import math
from collections.abc import Callable
from typing import Any

import typer

from perfsim.cli.output import Format, fail
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_TENSOR_PARALLEL


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


#: perfsim.cost.runtime.DEFAULT_RUNTIME, spelled out so that `--help` needs no pydantic import
#: (tests/cli check the two agree).
DEFAULT_RUNTIME = "vllm"

_RUNTIME_HELP = ("serving runtime id or YAML path (see `perfsim list runtimes`): its kernels, CUDA graphs, "
                 "scheduler defaults and host costs; `none`: kernel physics alone (no host costs, CUDA "
                 "graphs, whole-prompt memory)")


def _runtime_option(default: str | None, help_tail: str) -> Callable[[Callable], Callable]:
    return option_group("runtime", {
        "runtime": (str | None, typer.Option(default, "--runtime", help=_RUNTIME_HELP + help_tail)),
    }, lambda values: values["runtime"])


runtime_option = _runtime_option(DEFAULT_RUNTIME, "")
"""Adds `--runtime ID|PATH|none` (default vllm); the command gets the text as given."""
space_runtime_option = _runtime_option(None, "; default: the space file's `runtime` (vllm unless it says)")
"""`--runtime` for commands that read a space file: given, it overrides the file's runtime."""


def within(option: str, low: float, high: float, *, above: bool = False) -> Callable[[Any], Any]:
    """A typer callback refusing a number outside [low, high] (or (low, high] with `above`), NaN or
    infinity while the command line is parsed: one sentence naming the option and its range,
    before any work starts and never a silent clamp."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        ok = math.isfinite(value) and (value > low if above else value >= low) and value <= high
        if not ok:
            kind = "an integer" if isinstance(value, int) else "a number"
            bottom = f"above {_plain(low)}" if above else f"from {_plain(low)}"
            fail(f"{option} must be {kind} {bottom} {'and at most' if above else 'to'} {_plain(high)} "
                 f"(got {value}).")
        return value

    return check


def _plain(number: float) -> str:
    """1,048,576 rather than 1.04858e+06; 0.5 stays 0.5."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def bounded(default: Any, *names: str, low: float, high: float, above: bool = False, **kwargs: Any) -> Any:
    """`typer.Option(default, *names, ...)` whose value must lie within [low, high] (see `within`)."""
    option = next((n for n in names if n.startswith("--")), None)
    return typer.Option(default, *names, callback=within(option or "the value", low, high, above=above),
                        **kwargs)


def _experts(values: dict[str, Any]) -> dict[str, Any]:
    return {"expert_parallel": values["expert_parallel"],
            "expert_load_imbalance": values["expert_load_imbalance"]}


expert_options = option_group("experts", {
    "expert_parallel": (int, bounded(
        1, "--ep", low=1, high=MAX_TENSOR_PARALLEL,
        help="expert-parallel GPUs, dividing --tp: MoE experts placed whole, num_experts / EP per group "
             "of TP / EP GPUs (vLLM --enable-expert-parallel is EP = TP); 1: experts sliced over --tp")),
    "expert_load_imbalance": (float, bounded(
        1.0, "--ep-imbalance", low=1, high=MAX_TENSOR_PARALLEL,
        help="busiest expert-parallel rank's routed tokens over the mean, beyond uniform routing "
             "(1 to --ep)")),
}, _experts)
"""Adds `--ep` and `--ep-imbalance`; the command gets `experts`, Execution keyword arguments
(checked by Execution itself: one sentence and exit status 2 for EP not dividing --tp)."""
