"""`perfsim calibrate` and `perfsim validate`: torch is imported only when these run."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import typer

from perfsim.cli.output import Format, emit, fail
from perfsim.units import format_seconds

DEFAULT_VALIDATION_MODELS = ["tiny-dense-50m", "tiny-hybrid-50m"]


def _workflow():
    try:
        from perfsim.calibrate import workflow
    except ImportError as exc:
        fail(f"calibration needs torch ({exc.name} is missing): pip install 'perfsim[calibrate]'")
    return workflow


@contextmanager
def _progress(total: float, label: str):
    """A rich progress bar on stderr advanced by callbacks; yields the advance function."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn(label), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda amount=1.0: bar.advance(task, amount)


def calibrate_cmd(
    device: str = typer.Option("cpu", help="cpu or cuda (cuda:N for another GPU)"),
    quick: bool = typer.Option(False, "--quick", help="fewer shapes and repetitions (< 3 min on a CPU)"),
    out: Path | None = typer.Option(None, help="calibrated profile YAML [calibrated/<profile>.yaml]"),
    base: str | None = typer.Option(None, help="profile id or YAML to calibrate [GPU: the bundled profile "
                                              "of this GPU; CPU: a profile of this host]"),
    measurements: Path | None = typer.Option(None, help="measurements CSV [<out>.measurements.csv]"),
    family: list[str] | None = typer.Option(None, help="only these microbenchmark families (repeatable)"),
    plan_only: bool = typer.Option(False, "--plan", help="list the plan and its time estimate, run nothing"),
) -> None:
    """Run torch microbenchmarks on this machine and fit a profile's efficiency parameters."""
    workflow = _workflow()
    try:
        ctx, cases, estimate_s = workflow.plan_calibration(device, quick, family)
        out = out or workflow.default_profile_path(ctx.device, base)
    except ValueError as exc:
        fail(str(exc))
    counts = pd.Series([c.family for c in cases]).value_counts(sort=False)
    typer.echo(f"{len(cases)} microbenchmarks on {ctx.device} ("
               + ", ".join(f"{f} {n}" for f, n in counts.items())
               + f"), estimated {format_seconds(estimate_s)}", err=True)
    if plan_only:
        return
    measurements = measurements or out.with_suffix(".measurements.csv")
    try:
        with _progress(estimate_s, "calibrating") as advance:
            run = workflow.calibrate(device, quick, base, family, measurements, progress=advance)
    except ValueError as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(run.profile_yaml)
    quality = pd.DataFrame([{"family": f, **q} for f, q in run.fit.quality.items()])
    emit(quality, Format.table, title=f"fit quality (|predicted/measured - 1|) on {ctx.device}")
    emit(pd.DataFrame([{"parameter": k, "fitted": v} for k, v in run.fit.fitted.items()]), Format.table)
    typer.echo(f"wrote {out} and {measurements}", err=True)


def validate_cmd(
    device: str = typer.Option("cpu", help="cpu or cuda"),
    model: list[str] | None = typer.Option(None, help="model id or YAML (repeatable) "
                                                      f"[{', '.join(DEFAULT_VALIDATION_MODELS)}]"),
    profile: str | None = typer.Option(None, help="calibrated profile [calibrated/<profile>.yaml]"),
    dtype: str | None = typer.Option(None, help="run dtype [fp32 on cpu, bf16 on cuda]"),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv"),
    out: Path | None = typer.Option(None, help="also write the per-shape table as CSV"),
) -> None:
    """Time a real torch model's prefill and decode and compare with perfsim's predictions."""
    workflow = _workflow()
    models = model or DEFAULT_VALIDATION_MODELS
    if dtype is not None and dtype not in ("fp32", "bf16", "fp16"):
        fail(f"--dtype must be one of fp32, bf16, fp16 (got {dtype!r})")
    try:
        path = profile or workflow.default_profile_path(device)
        if profile is None and not Path(path).exists():
            fail(f"no calibrated profile at {path}; run `perfsim calibrate --device {device}` first "
                 "or pass --profile")
        with _progress(workflow.validation_steps(device, models), "validating") as advance:
            table, summary = workflow.validate(device, models, path, dtype, progress=advance)
    except ValueError as exc:
        fail(str(exc))
    if out is not None:
        table.to_csv(out, index=False)
    emit(table, fmt, title=f"measured vs predicted latency ({path})")
    if fmt is Format.table:
        emit(summary, fmt, title="median |error| per phase")
