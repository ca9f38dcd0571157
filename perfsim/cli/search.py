"""`perfsim sweep`, `perfsim search` and `perfsim frontier`: design-space exploration commands.

Data goes to stdout (table, JSON or CSV) or to -o FILE (.csv / .parquet, streamed for sweeps);
progress bars go to stderr. optuna and ray are imported only by the commands that use them.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer

from perfsim.cli.output import Format, emit, fail
from perfsim.errors import PerfsimInputError

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


class ExecutorName(StrEnum):
    local = "local"
    process = "process"
    ray = "ray"


@contextmanager
def _bar(label: str, enabled: bool = True):
    """A rich progress bar on stderr; yields update(done, total)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _write(frame: pd.DataFrame, out: Path) -> None:
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif out.suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        fail(f"{out}: output must end in .csv or .parquet.")
    typer.echo(f"wrote {len(frame)} rows to {out}", err=True)


def sweep_cmd(
    space: Path = typer.Argument(..., help="space.yaml: base design, parameters to sweep, workload"),
    executor: ExecutorName = typer.Option(ExecutorName.local, help="local, process (this machine) or ray"),
    address: str | None = typer.Option(None, help="Ray cluster address ('auto' joins a running cluster)"),
    workers: int | None = typer.Option(None, help="process-pool size / local Ray CPUs"),
    out: Path | None = typer.Option(None, "--out", "-o", help="stream every row to this .csv or .parquet"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="stdout format when no --out"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Evaluate every point of a design space (grid or random) and stream the results."""
    from perfsim.explore.sweep import sweep

    try:
        with _bar("sweeping", not quiet) as update:
            frame = sweep(
                space, executor=executor.value, address=address, workers=workers, out=out, progress=update
            )
    except PerfsimInputError as exc:
        fail(str(exc))
    if out is not None:
        typer.echo(f"wrote {len(frame)} rows to {out}", err=True)
        return
    emit(frame, fmt, f"perfsim sweep {space.name}: {len(frame)} points")


def search_cmd(
    space: Path = typer.Argument(..., help="space.yaml with 'architecture' and 'search' sections"),
    budget: int | None = typer.Option(None, help="trials (default: the space's budget)"),
    hardware: str | None = typer.Option(None, "--hardware", "-h", help="device (default: the space's)"),
    seed: int | None = typer.Option(None, help="sampler seed (default: the space's)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write all trials to .csv or .parquet"),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """NSGA-II search over hybrid architectures; prints the feasible Pareto front."""
    from perfsim.explore.search import search

    try:
        with _bar("searching", not quiet) as update:
            result = search(space, budget=budget, hardware=hardware, seed=seed, progress=update)
    except PerfsimInputError as exc:
        fail(str(exc))
    if out is not None:
        _write(result.trials, out)
    cols = ["design", *[c for c in SUMMARY if c not in ("design", "hardware", "batch")]]
    emit(
        result.front[[c for c in cols if c in result.front.columns]],
        fmt,
        f"Pareto front ({', '.join(f'{k} {v}' for k, v in result.objectives.items())}): "
        f"{len(result.front)} of {len(result.trials)} designs",
    )


def frontier_cmd(
    models: list[str] = typer.Option(..., "--model", "-m", help="model id or YAML (repeat)"),
    hardware: list[str] = typer.Option(..., "--hardware", "-h", help="device id or YAML (repeat)"),
    batch: int = typer.Option(1),
    prompt_len: int = typer.Option(1024),
    output_len: int = typer.Option(256),
    accuracy: str | None = typer.Option(
        None, help="measured | scaling_law | default | a CSV design,accuracy"
    ),
    latency: str = typer.Option("e2e_s", help="latency column for the front: e2e_s, ttft_s or tpot_s"),
    out: Path | None = typer.Option(None, "--out", "-o", help="also write the table to .csv or .parquet"),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Latency-accuracy frontier of models on devices; `on_front` marks the Pareto set per device."""
    from perfsim.explore.frontier import evaluate_frontier

    if latency not in ("e2e_s", "ttft_s", "tpot_s"):
        fail(f"--latency must be e2e_s, ttft_s or tpot_s (got {latency!r}).")
    try:
        frame = evaluate_frontier(
            models,
            list(hardware),
            batch=batch,
            prompt_len=prompt_len,
            output_len=output_len,
            accuracy=accuracy,
            objectives={latency: "min", "accuracy": "max"},
        )
    except PerfsimInputError as exc:
        fail(str(exc))
    if out is not None:
        _write(frame, out)
    emit(
        frame[SUMMARY + ["accuracy_source", "on_front"]],
        fmt,
        f"latency-accuracy frontier at batch {batch}, prompt {prompt_len}, output {output_len}",
    )
