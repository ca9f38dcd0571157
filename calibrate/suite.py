"""The microbenchmark plan for a device, its time estimate, and the tidy measurements table."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from perfsim.calibrate.bench_attention import attention_cases
from perfsim.calibrate.bench_comm import comm_cases
from perfsim.calibrate.bench_gemm import gemm_cases, moe_cases, supported_dtypes
from perfsim.calibrate.bench_launch import launch_cases
from perfsim.calibrate.bench_memory import memory_cases
from perfsim.calibrate.bench_scan import scan_cases
from perfsim.calibrate.cases import BenchContext, Case
from perfsim.calibrate.host import last_level_cache_bytes

#: Family name -> the cases it contributes; the fitting families of perfsim.calibration.fit.
FAMILIES: dict[str, Callable[[BenchContext], list[Case]]] = {
    "launch": launch_cases,
    "memory": memory_cases,
    "gemm": gemm_cases,
    "moe": moe_cases,
    "attention": attention_cases,
    "scan": scan_cases,
    "comm": comm_cases,
}


def context(device: str, quick: bool) -> BenchContext:
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        cache = float(getattr(props, "L2_cache_size", 50 * 2**20))
        return BenchContext(device, quick, supported_dtypes(device, quick), cache,
                            budget_s=0.05 if quick else 0.2, flops_per_s=3e14, bytes_per_s=1.5e12,
                            fill_bytes_per_s=2e11)
    threads = torch.get_num_threads()
    return BenchContext(device, quick, supported_dtypes(device, quick), last_level_cache_bytes(),
                        budget_s=0.08 if quick else 0.3, flops_per_s=5e10 * threads, bytes_per_s=1e10,
                        fill_bytes_per_s=4e8 * threads)


def plan(ctx: BenchContext, families: list[str] | None = None) -> list[Case]:
    unknown = sorted(set(families or []) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown microbenchmark family {unknown}; allowed: {', '.join(FAMILIES)}")
    return [case for name, make in FAMILIES.items() if not families or name in families
            for case in make(ctx)]


def run(cases: list[Case], ctx: BenchContext,
        on_case_done: Callable[[Case], None] | None = None) -> pd.DataFrame:
    """One row per measurement: family, kind, device, shape columns, timing columns."""
    rows = []
    for case in cases:
        start = time.perf_counter()
        results = case.run(ctx)
        elapsed_s = time.perf_counter() - start
        for extra, timing in results:
            rows.append({
                "family": case.family, "kind": case.kind, "device": ctx.device, **case.shape, **extra,
                "median_s": timing.median_s, "p10_s": timing.p10_s, "p90_s": timing.p90_s,
                "reps": timing.reps, "outliers": timing.outliers, "timing": timing.mode,
                "case_wall_s": elapsed_s, "case_estimate_s": case.estimate_s(ctx),
            })
        if on_case_done is not None:
            on_case_done(case)
    return pd.DataFrame(rows)


def save(frame: pd.DataFrame, environment: dict[str, str], path: Path) -> None:
    """CSV table plus a JSON sidecar with the environment it was measured in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    path.with_suffix(".env.json").write_text(json.dumps(environment, indent=2) + "\n")


def load(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    sidecar = path.with_suffix(".env.json")
    env = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    return pd.read_csv(path), env
