"""`perfsim sweep`, `perfsim search` and `perfsim frontier`: design-space exploration commands.

Data goes to stdout (table, JSON or CSV) or to -o FILE (.csv / .parquet, streamed for sweeps);
progress bars go to stderr. Optional packages (optuna, pyarrow, ray) are checked before a run
starts, through perfsim.extras, so a missing one is one sentence naming the extra to install
rather than a traceback after minutes of work; so is an output folder that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from perfsim.cli.options import bounded, formatted, runtime_option, space_runtime_option
from perfsim.cli.output import Format, emit, fail, output_callback, progress
from perfsim.extras import require
from perfsim.io.limits import MAX_BATCH, MAX_SEED, MAX_SIZE, MAX_STEPS

if TYPE_CHECKING:
    import pandas as pd

SUMMARY = [
    "design",
    "hardware",
    "params",
    "batch",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "tokens_per_s",
    "max_batch_tokens_per_s",
    "memory_bytes",
    "fits",
    "accuracy",
]
OUT_SUFFIXES = (".csv", ".parquet")


def _out_option(help: str):
    return typer.Option(None, "--out", "-o", help=help, callback=output_callback("--out", OUT_SUFFIXES))


def _need_parquet(out: Path | None) -> None:
    if out is not None and out.suffix == ".parquet":
        require("pyarrow", extra="parquet", feature="writing .parquet files (-o)")


def _write(frame: pd.DataFrame, out: Path) -> None:
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    typer.echo(f"wrote {len(frame)} rows to {out}", err=True)


def _executor(name: str, address: str | None) -> None:
    """Refuse an unknown executor, a missing Ray, or (for --address) a cluster that cannot be
    reached, before the sweep starts."""
    from perfsim.errors import PerfsimInputError
    from perfsim.explore.executors import registered_executors

    if name not in registered_executors():
        allowed = ", ".join(sorted(registered_executors()))
        raise PerfsimInputError(f"--executor {name!r} is unknown; allowed: {allowed}.")
    if address is not None and name != "ray":
        raise PerfsimInputError(f"--address joins a Ray cluster; it needs --executor ray (got {name}).")
    if name == "ray":
        require("ray", extra="distributed", feature="--executor ray")


@space_runtime_option
@formatted
def sweep_cmd(
    space: Path = typer.Argument(..., help="space.yaml: base design, parameters to sweep, workload"),
    executor: str = typer.Option("local", help="local, process (this machine) or ray "
                                               "(see `perfsim list executors`)"),
    address: str | None = typer.Option(None, help="Ray cluster address ('auto' joins a running cluster)"),
    workers: int | None = bounded(None, "--workers", low=1, high=4096,
                                  help="process-pool size / local Ray CPUs"),
    out: Path | None = _out_option("stream every row to this .csv or .parquet"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
    fmt: Format = Format.table,
    runtime: str | None = None,
) -> None:
    """Evaluate every point of a design space (grid or random) and stream the results."""
    from perfsim.explore.space import load_space
    from perfsim.explore.sweep import sweep

    _executor(executor, address)
    _need_parquet(out)
    points = load_space(space)  # a bad file is one sentence before the progress bar starts
    try:
        with progress("sweeping", enabled=not quiet) as bar:
            frame = sweep(points, executor=executor, address=address, workers=workers, out=out,
                          progress=bar.on_update, runtime=runtime)
    except ConnectionError as exc:  # ray.init could not reach --address
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"--executor ray could not reach a Ray cluster at {address or 'a local address'} ({first}); "
             "start one with `ray start --head` or leave out --address.")
    if out is not None:
        typer.echo(f"wrote {len(frame)} rows to {out}", err=True)
        return
    emit(frame, fmt, f"perfsim sweep {space.name}: {len(frame)} points")


@space_runtime_option
@formatted
def search_cmd(
    space: Path = typer.Argument(..., help="space.yaml with 'architecture' and 'search' sections"),
    budget: int | None = bounded(None, "--budget", low=1, high=MAX_STEPS,
                                 help="trials (default: the space's budget)"),
    hardware: str | None = typer.Option(None, "--hardware", "-h", help="device (default: the space's)"),
    seed: int | None = bounded(None, "--seed", low=0, high=MAX_SEED,
                               help="sampler seed (default: the space's)"),
    out: Path | None = _out_option("write all trials to .csv or .parquet"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
    fmt: Format = Format.table,
    runtime: str | None = None,
) -> None:
    """NSGA-II search over hybrid architectures; prints the feasible Pareto front."""
    require("optuna", extra="search", feature="perfsim search")
    _need_parquet(out)
    from perfsim.explore.search import search
    from perfsim.explore.space import load_space

    design_space = load_space(space)  # a bad file is one sentence before the progress bar starts
    with progress("searching", enabled=not quiet) as bar:
        result = search(design_space, budget=budget, hardware=hardware, seed=seed, progress=bar.on_update,
                        runtime=runtime)
    if out is not None:
        _write(result.trials, out)
    cols = ["design", *[c for c in SUMMARY if c not in ("design", "hardware", "batch")]]
    emit(
        result.front[[c for c in cols if c in result.front.columns]],
        fmt,
        f"Pareto front ({', '.join(f'{k} {v}' for k, v in result.objectives.items())}): "
        f"{len(result.front)} of {len(result.trials)} designs",
    )


LATENCIES = ("e2e_s", "ttft_s", "tpot_s")


@runtime_option
@formatted
def frontier_cmd(
    models: list[str] = typer.Option(..., "--model", "-m", help="model id or YAML (repeat)"),
    hardware: list[str] = typer.Option(..., "--hardware", "-h", help="device id or YAML (repeat)"),
    batch: int = bounded(1, "--batch", low=1, high=MAX_BATCH),
    prompt_len: int = bounded(1024, "--prompt-len", low=1, high=MAX_SIZE),
    output_len: int = bounded(256, "--output-len", low=1, high=MAX_SIZE),
    accuracy: str | None = typer.Option(
        None, help="an accuracy model (see `perfsim list accuracy`) or a CSV design,accuracy"
    ),
    latency: str = typer.Option("e2e_s", help="latency column for the front: e2e_s, ttft_s or tpot_s"),
    out: Path | None = _out_option("also write the table to .csv or .parquet"),
    fmt: Format = Format.table,
    runtime: str | None = None,
) -> None:
    """Latency-accuracy frontier of models on devices; `on_front` marks the Pareto set per device."""
    from perfsim.explore.frontier import evaluate_frontier

    if latency not in LATENCIES:
        fail(f"--latency must be e2e_s, ttft_s or tpot_s (got {latency!r}).")
    _need_parquet(out)
    frame = evaluate_frontier(
        models,
        list(hardware),
        batch=batch,
        prompt_len=prompt_len,
        output_len=output_len,
        accuracy=accuracy,
        objectives={latency: "min", "accuracy": "max"},
        runtime=runtime,
    )
    if out is not None:
        _write(frame, out)
    emit(
        frame[SUMMARY + ["accuracy_kind", "accuracy_source", "on_front"]],
        fmt,
        f"latency-accuracy frontier at batch {batch}, prompt {prompt_len}, output {output_len}",
    )
