"""The two user-facing jobs: calibrate a profile on this machine, and validate a profile against
real model execution. The CLI only parses options and renders what these return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from perfsim.calibrate import suite
from perfsim.calibrate.environment import describe, resolve_device
from perfsim.calibrate.host import bundled_profile_for, host_cpu_profile_yaml
from perfsim.calibrate.validate import measure_model, predict_table, shapes_for, summarise, with_dtype
from perfsim.calibration.fit import CalibrationFit, calibrated, fit_profile
from perfsim.calibration.writer import replace_calibration
from perfsim.io.catalog import find
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.hardware import Calibration, HardwareProfile

Progress = Callable[[float], None]  # called with seconds of estimated work just finished


@dataclass(frozen=True)
class CalibrationRun:
    profile_yaml: str
    profile: HardwareProfile
    fit: CalibrationFit
    measurements: pd.DataFrame
    environment: dict[str, str]


def default_profile_path(device: str, base: str | None = None) -> Path:
    name = base or ("cpu-host" if device == "cpu" else bundled_profile_for(_gpu_name(device)))
    return Path("calibrated") / f"{Path(name).stem}.yaml"


def _gpu_name(device: str) -> str:
    import torch

    return torch.cuda.get_device_name(torch.device(device))


def plan_calibration(device: str, quick: bool, families: list[str] | None = None):
    device = resolve_device(device)
    ctx = suite.context(device, quick)
    cases = suite.plan(ctx, families)
    return ctx, cases, sum(c.estimate_s(ctx) for c in cases)


def calibrate(device: str, quick: bool, base: str | None, families: list[str] | None = None,
              measurements_out: Path | None = None, progress: Progress | None = None) -> CalibrationRun:
    """Measure, fit and return the calibrated profile (its YAML differs from the base only in the
    calibration block)."""
    ctx, cases, _ = plan_calibration(device, quick, families)
    env = describe(ctx.device)
    frame = suite.run(cases, ctx, None if progress is None else (lambda c: progress(c.estimate_s(ctx))))
    if measurements_out is not None:
        suite.save(frame, env, measurements_out)
    if base is None and ctx.device == "cpu":
        base_text = host_cpu_profile_yaml(frame)
    else:
        base_text = find("hwprofiles", base or bundled_profile_for(env["gpu_name"]))[1]
    base_hw = HardwareProfile.model_validate(yaml.safe_load(base_text))
    fit = fit_profile(base_hw, frame)
    counts = frame.groupby("family").size()
    sources = [f"{measurements_out.name if measurements_out else 'measurements'}: "
               + ", ".join(f"{fam} {n}" for fam, n in counts.items())]
    profile = calibrated(base_hw, fit, env, sources)
    text = replace_calibration(base_text, profile.calibration)
    return CalibrationRun(text, profile, fit, frame, env)


def uncalibrated(hw: HardwareProfile) -> HardwareProfile:
    """The same profile with its calibration block reset: the datasheet + priors prediction."""
    data = hw.model_dump()
    data["calibration"] = Calibration().model_dump()
    return HardwareProfile.model_validate(data)


def validate(device: str, models: list[str], profile: str | Path, dtype: str | None = None,
             progress: Callable[[], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-shape table, per-phase summary) of measured vs predicted latency, with the profile as
    calibrated and with its calibration removed."""
    device = resolve_device(device)
    hw = load_hardware(profile)
    dtype = dtype or ("fp32" if device == "cpu" else "bf16")
    profiles = {"calibrated": hw, "prior": uncalibrated(hw)}
    tables = []
    for name in models:
        spec = with_dtype(load_model(name), dtype)
        measured = measure_model(spec, device, dtype, shapes_for(device), on_done=progress)
        tables.append(predict_table(spec, measured, profiles))
    table = pd.concat(tables, ignore_index=True)
    return table, summarise(table, list(profiles))


def validation_steps(device: str, models: list[str]) -> int:
    shapes = shapes_for(device)
    return len(models) * (len(shapes.prefill) + len(shapes.decode))
