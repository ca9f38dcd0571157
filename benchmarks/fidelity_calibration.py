"""Does calibration improve fidelity? Calibrate this machine (quick), then time real prefill and
decode of the validation models and compare perfsim's predictions with the profile before
(datasheet/host facts + priors) and after (fitted) calibration, on the same runs.

    python benchmarks/fidelity_calibration.py [--device cpu|cuda] [--runs 3] [--full]

Each run re-calibrates and re-validates, so the spread across runs shows how much of the error is
this shared machine's noise. Prints per-run medians and the per-shape table of the last run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibrate import workflow  # noqa: E402
from perfsim.cli.calibrate import DEFAULT_VALIDATION_MODELS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="full calibration instead of --quick")
    parser.add_argument("--out", type=Path, default=Path("/tmp/perfsim-fidelity-calibration"))
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    summaries = []
    for run in range(args.runs):
        t0 = time.perf_counter()
        cal = workflow.calibrate(args.device, not args.full, None,
                                 measurements_out=args.out / f"run{run}.measurements.csv")
        t_cal = time.perf_counter() - t0
        profile = args.out / f"run{run}.yaml"
        profile.write_text(cal.profile_yaml)
        t0 = time.perf_counter()
        table, summary = workflow.validate(args.device, DEFAULT_VALIDATION_MODELS, profile)
        t_val = time.perf_counter() - t0
        summary.insert(0, "run", run)
        summary["calibrate_s"], summary["validate_s"] = round(t_cal, 1), round(t_val, 1)
        summaries.append(summary)
        print(f"run {run}: calibrate {t_cal:.0f} s, validate {t_val:.0f} s", flush=True)
    print("\nper-shape, last run (error = predicted / measured - 1):")
    cols = ["model", "phase", "batch", "tokens", "measured_s", "p10_s", "p90_s",
            "predicted_prior_s", "error_prior", "predicted_calibrated_s", "error_calibrated"]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print("\nmedian |error| per phase, every run (before = prior, after = calibrated):")
    print(pd.concat(summaries, ignore_index=True).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
