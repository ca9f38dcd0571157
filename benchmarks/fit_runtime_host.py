"""Fit each runtime's host costs to the public measurements in benchmarks/data/runtime_measurements.csv.

Every usable row is priced with perfsim's kernel-only prediction (decode_step / prefill / generate
under the runtime's kernels, CUDA graphs as the row ran, host costs 0); the gap to the measured
time is fitted per runtime as per_step + per_seq_per_step x running sequences (+ per_kernel_eager
x kernels launched, for eager rows; + per_kernel_ungraphed x kernels of steps above the runtime's
CUDA-graph capture size, for rows run with graphs; + per_request for a TTFT measured through an
API server) by
non-negative least squares on relative error, then refined
on perfsim's own predictor, whose eager launch model overlaps host enqueue with device work
(perfsim.calibration.host). Rows are split as runtime_measurements.md suggests: fit rows fit,
validation rows only check; rows that are not host-dominated, not a time, or not expressible in
perfsim are listed with the reason. A parameter needs >= 2 fit rows; leave-one-out error is
reported for each. Deterministic.

    python benchmarks/fit_runtime_host.py            # table, runtime_host_fit.csv and .md
    python benchmarks/fit_runtime_host.py --write    # also replace the host: block of runtimes/<id>.yaml
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the host_fit package next to this script

from host_fit.pricing import host_row, load_rows  # noqa: E402
from host_fit.report import pct, report, write_yaml  # noqa: E402
from host_fit.rows import runtime_id  # noqa: E402

from perfsim.calibration.host import fit_runtime, median_abs, rel_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
#: A fit row whose kernel-only price exceeds the measurement by more than this factor says
#: nothing about host cost (which is >= 0); it is set aside with the reason.
OVERSHOOT = 1.10
FITTED = ("per_step", "per_seq_per_step", "per_kernel_eager", "per_kernel_ungraphed", "per_request")
__all__ = ["load_rows", "main", "run"]


def candidates(fit_rows) -> tuple[str, ...]:
    """FITTED, less per_kernel_ungraphed where every fit row carries it: without rows whose steps
    all replay graphs to pin per_step and per_request, it would trade with them (3 Jetson e2e rows
    put everything on it); such a runtime keeps the value it has (its own or its base's)."""
    if fit_rows and all(r.x("per_kernel_ungraphed") for r in fit_rows):
        return tuple(p for p in FITTED if p != "per_kernel_ungraphed")
    return FITTED


def run(csv_path: Path, runtimes: list[str]):
    _, fit, val, excluded = load_rows(csv_path)
    results = {}
    for rt in runtimes:
        kept = []
        for p, s in fit.get(rt, []):
            row = host_row(p, s)
            if row.device_s > OVERSHOOT * row.measured_s:  # host costs are >= 0: nothing to fit
                excluded.append(
                    (
                        p.key,
                        rt,
                        s,
                        p.kind,
                        (
                            f"kernel-only price {row.device_s * 1e3:.2f} ms exceeds the measured "
                            f"{row.measured_s * 1e3:.2f} ms by > {100 * (OVERSHOOT - 1):.0f}%: "
                            "a kernel-model "
                            "miss, not host cost (fit row set aside)"
                        ),
                    )
                )
            else:
                kept.append((p, s))
        fit[rt] = kept
        fit_rows = [host_row(p, s) for p, s in kept]
        val_rows = [host_row(p, s) for p, s in val.get(rt, [])]
        priced = {p.key: p for p, _ in kept + val.get(rt, [])}

        def predictor(row, values, priced=priced):
            """perfsim's own prediction (eager launch recurrence; per-kernel cost None -> the
            profile's raw launch cost when it is not fitted; the ungraphed one -> the runtime's)."""
            return priced[row.key].total_s({"per_kernel_eager": None, **values})[0]

        res = fit_runtime(fit_rows, val_rows, candidates(fit_rows), predictor=predictor)
        values = dict(res.fit.values)
        check = {}
        for p, _ in fit.get(rt, []) + val.get(rt, []):
            check[p.key] = rel_error(predictor(host_row(p, ""), values), p.measured_s)
        results[rt] = (res, fit.get(rt, []), val.get(rt, []), check)
    return results, excluded


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DATA / "runtime_measurements.csv")
    ap.add_argument("--out", type=Path, default=DATA / "runtime_host_fit.csv")
    ap.add_argument("--runtimes-dir", type=Path, default=ROOT / "runtimes")
    ap.add_argument(
        "--write", action="store_true", help="replace the host: block of each fitted runtime YAML"
    )
    ap.add_argument(
        "--runtime", action="append", default=None, help="with --write: only these runtime ids (repeatable)"
    )
    args = ap.parse_args(argv)
    with open(args.csv, newline="") as f:
        runtimes = sorted({runtime_id(r) for r in csv.DictReader(f)})
    results, excluded = run(args.csv, runtimes)
    table, md = report(results, excluded)
    cols = list(table[0]) if table else []
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(table)
    args.out.with_suffix(".md").write_text(md)
    print(f"{'runtime':16} {'parameter':18} {'value':>12} {'n':>3} {'LOO med':>8}  note")
    for t in table:
        v = f"{float(t['value_s']) * 1e3:.3f} ms" if t["value_s"] else "-"
        loo = f"{100 * float(t['loo_median_abs_error']):.1f}%" if t["loo_median_abs_error"] else "-"
        print(f"{t['runtime']:16} {t['parameter']:18} {v:>12} {t['n_rows']:>3} {loo:>8}  {t['note']}")
    for rt, (res, _, valp, check) in results.items():
        if valp:
            print(
                f"validation {rt}: n={len(valp)} median |err| fit "
                f"{pct(median_abs(res.validation.values()), False)}, "
                f"perfsim {pct(median_abs(check[p.key] for p, _ in valp), False)}"
            )
    print(f"{len(excluded)} rows not used (reasons in {args.out.with_suffix('.md').name})")
    if args.write:
        for rt, (res, fitp, _, _) in results.items():
            if args.runtime and rt not in args.runtime:
                continue
            path = args.runtimes_dir / f"{rt}.yaml"
            if path.exists() and write_yaml(path, rt, res, fitp):
                print(f"wrote host: block of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
