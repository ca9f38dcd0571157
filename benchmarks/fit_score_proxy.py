"""Fit the scaling-law score proxy of each named benchmark and cross-validate it (issue 20).

For every benchmark of perfsim/accuracy/data/published_scores.yaml with at least three bundled
models that carry a published score and published training tokens: predicted Chinchilla loss
(perfsim.accuracy.ScalingLaw) -> logit(score) by least squares, then leave-one-out (refit without
each model, predict it). Writes perfsim/accuracy/data/score_proxy.yaml (a, b, LOO RMSE and MAE in
score points, the models used) and prints the per-model LOO table.

Run: python benchmarks/fit_score_proxy.py [--check]   (--check: compare with the stored file only)
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import yaml

from perfsim.accuracy.published import PROXY_FILE, load_published_scores
from perfsim.accuracy.scaling_law import fit_logit_line, leave_one_out, proxy_rows
from perfsim.io.catalog import list_ids

MIN_ROWS = 3


def fit_all() -> dict:
    table = load_published_scores()
    models = list_ids("models")
    proxies = {}
    for benchmark in table.benchmarks:
        rows = proxy_rows(models, benchmark)
        if len(rows) < MIN_ROWS:
            continue
        chance = table.benchmarks[benchmark].chance_percent
        a, b = fit_logit_line([r[1] for r in rows], [r[2] for r in rows], chance)
        loo = leave_one_out(rows, chance)
        errors = np.array([pred - pub for _, pub, pred in loo])
        print(f"{benchmark}: a={a:.4f} b={b:.4f} (chance {chance:g} %) on {len(rows)} models; "
              f"leave-one-out RMSE "
              f"{np.sqrt(np.mean(errors**2)):.2f} points, MAE {np.mean(np.abs(errors)):.2f}")
        for (name, pub, pred), (_, loss, _) in zip(loo, rows, strict=True):
            print(f"    {name:<26} loss {loss:.3f}  published {pub:6.2f}  LOO predicted {pred:6.2f}  "
                  f"{pred - pub:+6.2f}")
        proxies[benchmark] = {"a": round(a, 4), "b": round(b, 4),
                              "loo_rmse_points": round(float(np.sqrt(np.mean(errors**2))), 2),
                              "loo_mae_points": round(float(np.mean(np.abs(errors))), 2),
                              "fitted_on": [r[0] for r in rows]}
    return {"schema_version": 1, "fitted_by": "benchmarks/fit_score_proxy.py", "proxies": proxies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the stored file")
    args = parser.parse_args()
    fitted = fit_all()
    text = ("# Loss -> score proxies of the scaling-law accuracy model, one per benchmark; written by\n"
            "# benchmarks/fit_score_proxy.py from perfsim/accuracy/data/published_scores.yaml. Do not edit.\n"
            + yaml.safe_dump(fitted, sort_keys=False, width=110))
    if args.check:
        same = PROXY_FILE.read_text() == text
        print("stored proxy file is up to date" if same else
              "stored proxy file differs: rerun without --check")
        return 0 if same else 1
    PROXY_FILE.write_text(text)
    print(f"wrote {PROXY_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
