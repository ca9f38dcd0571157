"""Kernel fidelity against NVIDIA's measured kernel tables (aiconfigurator-core), H100/A100 SXM.

For every device x runtime x kernel family: n, median and p90 |predicted/measured - 1| of the
bundled profile's priors, then of a calibration fitted per runtime on one half of the shapes and
reported on the other half (split by a hash of the shape). Only the h100_sxm and a100_sxm tables
are read (perfsim.calibration.tables.reader.ALLOWED_SYSTEMS); the package's other systems are
reserved for held-out validation and are refused.

    pip install aiconfigurator-core==0.12.0      # or pass --source <the wheel or an unpacked tree>
    python benchmarks/fidelity_kernels.py [--source WHEEL] [--system S] [--family PREFIX]
                                          [--priors-only] [--write-profiles]

--write-profiles writes each runtime's calibration into hwprofiles/<profile>.yaml
(calibration.runtimes; nothing else in the file changes), the same as
`perfsim calibrate --from-table aiconfigurator --system <system> --runtime <id> --out <profile>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from perfsim.calibration.tables.apply import fit_tables, write_calibrations
from perfsim.calibration.tables.driver import predict, summary
from perfsim.calibration.tables.load import PACKAGE_VERSION, PROFILES, load_rows
from perfsim.calibration.tables.reader import ALLOWED_SYSTEMS, TableSource
from perfsim.io.load import load_hardware

RUNTIMES = ("vllm", "sglang", "tensorrt-llm", "nccl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="aiconfigurator-core wheel or unpacked tree [installed package]")
    parser.add_argument("--system", action="append", choices=ALLOWED_SYSTEMS)
    parser.add_argument("--priors-only", action="store_true")
    parser.add_argument("--write-profiles", action="store_true",
                        help="write the runtime calibrations into hwprofiles/<profile>.yaml")
    parser.add_argument("--save", help="also write the fitted values per system and runtime as JSON")
    parser.add_argument("--family", action="append", metavar="PREFIX",
                        help="only family labels starting with PREFIX (e.g. attn_decode, moe); repeatable")
    args = parser.parse_args()
    if args.family and args.write_profiles:
        print("--write-profiles needs every family: drop --family", file=sys.stderr)
        return 2
    try:
        source = TableSource.locate(args.source)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    tables, fitted_all = [], {}
    for system in args.system or ALLOWED_SYSTEMS:
        hw = load_hardware(PROFILES[system])
        rows = load_rows(source, system, RUNTIMES)
        if args.family:
            rows = rows[rows["family"].str.startswith(tuple(args.family))]
        test = rows[rows["split"] == "test"]
        prior = summary(rows, predict(hw, rows), ("runtime", "family")).rename(
            columns={"n": "n_all", "median": "prior_median", "p90": "prior_p90"})
        if not args.priors_only:
            fit = fit_tables(hw, rows, sorted(rows["runtime"].unique()),
                             f"aiconfigurator-core {PACKAGE_VERSION} tables, {system}, fitted on the "
                             f"shape-hash 'fit' half by benchmarks/fidelity_kernels.py")
            fitted_all[system] = {r: c.fitted for r, c in fit.calibrations.items()}
            held = summary(test, predict(hw, test), ("runtime", "family")).rename(
                columns={"median": "prior_test_median", "p90": "prior_test_p90"})
            after = fit.quality[["runtime", "family", "n", "median_fitted", "p90_fitted"]].rename(
                columns={"n": "n_test", "median_fitted": "fit_test_median", "p90_fitted": "fit_test_p90"})
            prior = prior.merge(held.drop(columns="n"), on=["runtime", "family"]).merge(
                after, on=["runtime", "family"])
            if args.write_profiles:
                path = Path("hwprofiles") / f"{PROFILES[system]}.yaml"
                path.write_text(write_calibrations(path.read_text(), fit))
        tables.append(prior.assign(system=system))
    table = pd.concat(tables)
    cols = ["system", *[c for c in table.columns if c != "system"]]
    pd.set_option("display.width", 200)
    print(f"aiconfigurator-core {PACKAGE_VERSION}: |predicted/measured - 1| per family "
          "(prior: all rows; prior_test / fit_test: held-out half)")
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    overall = table.groupby("system")[[c for c in table.columns if c.endswith("median")]].median()
    print("\nmedian over families:\n" + overall.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.save:
        with open(args.save, "w") as out:
            json.dump(fitted_all, out, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
