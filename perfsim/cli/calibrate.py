"""`perfsim calibrate` and `perfsim validate`: torch microbenchmarks and the real-model check.

torch is an optional extra, imported only when these run (through perfsim.extras, so a core
install gets one sentence naming the extra instead of an ImportError).
"""

from __future__ import annotations

from pathlib import Path

import typer

from perfsim.cli.options import formatted
from perfsim.cli.output import Format, emit, fail, output_callback, progress
from perfsim.extras import require
from perfsim.units import format_seconds

DEFAULT_VALIDATION_MODELS = ["tiny-dense-50m", "tiny-hybrid-50m"]


def _workflow():
    require("torch", extra="calibrate", feature="calibration")
    from perfsim.calibrate import workflow

    return workflow


@formatted
def calibrate_cmd(
    device: str = typer.Option("cpu", help="cpu or cuda (cuda:N for another GPU)"),
    quick: bool = typer.Option(False, "--quick", help="fewer shapes and repetitions (< 3 min on a CPU)"),
    out: Path | None = typer.Option(None, help="calibrated profile YAML [calibrated/<profile>.yaml]"),
    base: str | None = typer.Option(None, help="profile id or YAML to calibrate [GPU: the bundled profile "
                                              "of this GPU; CPU: a profile of this host]"),
    measurements: Path | None = typer.Option(None, help="measurements CSV [<out>.measurements.csv]",
                                             callback=output_callback("--measurements")),
    family: list[str] | None = typer.Option(None, help="only these microbenchmark families (repeatable)"),
    plan_only: bool = typer.Option(False, "--plan", help="list the plan and its time estimate, run nothing"),
    fmt: Format = Format.table,
) -> None:
    """Run torch microbenchmarks on this machine and fit a profile's efficiency parameters."""
    import pandas as pd

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
        with progress("calibrating", estimate_s) as bar:
            run = workflow.calibrate(device, quick, base, family, measurements, progress=bar.advance)
    except ValueError as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(run.profile_yaml)
    quality = pd.DataFrame([{"family": f, **q} for f, q in run.fit.quality.items()])
    fitted = pd.DataFrame([{"parameter": k, "fitted": v} for k, v in run.fit.fitted.items()])
    if fmt is Format.table:
        emit(quality, fmt, title=f"fit quality (|predicted/measured - 1|) on {ctx.device}")
        emit(fitted, fmt)
    else:  # one document on stdout: the fitted values with each family's fit quality
        emit(fitted.assign(family=fitted.parameter.str.split(".").str[0]).merge(
            quality, on="family", how="left"), fmt)
    typer.echo(f"wrote {out} and {measurements}", err=True)


def validate_cmd(
    device: str = typer.Option("cpu", help="cpu or cuda"),
    model: list[str] | None = typer.Option(None, help="model id or YAML (repeatable) "
                                                      f"[{', '.join(DEFAULT_VALIDATION_MODELS)}]"),
    profile: str | None = typer.Option(None, help="calibrated profile [calibrated/<profile>.yaml]"),
    dtype: str | None = typer.Option(None, help="run dtype [fp32 on cpu, bf16 on cuda]"),
    out: Path | None = typer.Option(None, help="also write the per-shape table as CSV",
                                    callback=output_callback("--out")),
    fmt: Format = Format.table,
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
        with progress("validating", workflow.validation_steps(device, models)) as bar:
            table, summary = workflow.validate(device, models, path, dtype, progress=bar.advance)
    except ValueError as exc:
        fail(str(exc))
    if out is not None:
        table.to_csv(out, index=False)
    emit(table, fmt, title=f"measured vs predicted latency ({path})")
    if fmt is Format.table:
        emit(summary, fmt, title="median |error| per phase")
