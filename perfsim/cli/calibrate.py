"""`perfsim calibrate` and `perfsim validate`: torch microbenchmarks and the real-model check,
or (`--from-table`) a fit to published measured-kernel tables, per runtime, with no GPU at hand.

torch is an optional extra, imported only when these run (through perfsim.extras, so a core
install gets one sentence naming the extra instead of an ImportError). The tables need pandas and
pyarrow, and aiconfigurator-core (or its wheel via --source) for `--from-table aiconfigurator`.
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
    from_table: str | None = typer.Option(None, "--from-table", help="fit to measured kernel tables "
                                          "instead: 'aiconfigurator' or a CSV in its terms (see "
                                          "perfsim.calibration.tables.load.load_csv)"),
    system: str | None = typer.Option(None, help="with --from-table aiconfigurator: h100_sxm or a100_sxm"),
    runtime: list[str] | None = typer.Option(None, help="with --from-table: runtime(s) to calibrate "
                                                        "(vllm, sglang, tensorrt-llm, nccl; repeatable)"),
    source: Path | None = typer.Option(None, help="with --from-table aiconfigurator: the wheel or an "
                                                  "unpacked tree [the installed package]"),
    fmt: Format = Format.table,
) -> None:
    """Run torch microbenchmarks on this machine and fit a profile's efficiency parameters."""
    import pandas as pd

    if from_table is not None:
        _from_table(from_table, system, runtime or [], source, base, out, fmt)
        return
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


def _from_table(table: str, system: str | None, runtimes: list[str], source: Path | None,
                base: str | None, out: Path | None, fmt: Format) -> None:
    """Fit each runtime's calibration on half the table's shapes, report the other half, and write
    the calibrations into the profile's calibration.runtimes (nothing else in the file changes)."""
    from perfsim.calibration.tables.apply import fit_tables, write_calibrations
    from perfsim.calibration.tables.load import PACKAGE_VERSION, PROFILES, load_csv, load_rows
    from perfsim.calibration.tables.reader import TableSource, check_system
    from perfsim.io.load import load_hardware

    if not runtimes:
        fail("--from-table needs --runtime (vllm, sglang, tensorrt-llm or nccl; repeatable).")
    try:
        if table == "aiconfigurator":
            if system is None:
                fail("--from-table aiconfigurator needs --system (h100_sxm or a100_sxm).")
            check_system(system)
            rows = load_rows(TableSource.locate(source), system, tuple(runtimes))
            profile = base or PROFILES[system]
            what = f"aiconfigurator-core {PACKAGE_VERSION} tables, {system}"
        else:
            if base is None:
                fail("--from-table <CSV> needs --base (the profile the table was measured on).")
            rows = load_csv(table, runtimes[0])
            profile, what = base, f"table {table}"
        hw = load_hardware(profile)
        fit = fit_tables(hw, rows, runtimes, f"{what}: fitted on half the shapes, reported on the other half")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    base_path = Path(profile) if Path(profile).is_file() else Path("hwprofiles") / f"{hw.id}.yaml"
    out = out or Path("calibrated") / f"{hw.id}.yaml"
    text = base_path.read_text() if base_path.is_file() else out.read_text()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(write_calibrations(text, fit))
    emit(fit.quality, fmt, title=f"held-out |predicted/measured - 1| on {hw.id} ({what})")
    typer.echo(f"wrote {out}", err=True)


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
