"""Fit a runtime's host cost per speculative draft step (`host.per_draft_step`) to public runs.

Run: python benchmarks/fit_draft_host.py [--write]   (after fit_runtime_host.py: it prices rows with
the runtime's other fitted host costs)

Each row of benchmarks/data/runtime_measurements.csv whose metric is `output_tok_s_eagle` and whose
notes state the draft length (`num_steps N`, `K=N`, `k=N`) and the acceptance length is one
measurement of seconds per output token at batch 1. perfsim prices it with the runtime's other
host costs and `per_draft_step` = 0 (the kernel and engine part, d); the row carries
x = N / acceptance draft steps per output token, and t ~= d + x * per_draft_step (perfsim's host
fitter, perfsim.calibration.host: non-negative least squares on relative error, leave-one-out).

Which rows fit: eager runs (cuda_graphs false), since `per_draft_step` is the proposer's host
work when draft steps are launched one by one (perfsim.decoding.Speculative.draft_execution); runs
with CUDA graphs are priced with it at 0 and reported as validation. A runtime version that
predates the bundled profile is named in the report. Assumptions, stated per row: a chain draft
(top-k 1, one token per draft step) unless the notes give a tree; MT-bench prompts of 128 tokens
and 384 output tokens (the rows' tok/s includes prefill, as perfsim.generate's does).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import replace
from pathlib import Path

import perfsim
from perfsim.calibration.host import HostRow, fit_runtime, host_block, median_abs, replace_host_block
from perfsim.decoding import Speculative
from perfsim.io.load import load_hardware, load_runtime
from perfsim.spec.deployment import Execution

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "runtime_measurements.csv"
HARDWARE = {"H100": "h100-sxm"}
MODELS = {"meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b"}
PROMPT_TOKENS, OUTPUT_TOKENS = 128, 384


def _draft_length(notes: str) -> int | None:
    m = re.search(r"(?:num_steps|num-steps|\bK=|\bk=)\s*(\d+)", notes)
    return int(m.group(1)) if m else None


def _acceptance(notes: str) -> float | None:
    m = re.search(r"acceptance length\s*([0-9.]+)", notes)
    return float(m.group(1)) if m else None


def _row(i: int, r: dict) -> tuple[HostRow, bool, str] | None:
    """(row, eager, why-not) for a priceable speculative row; None when it is not one."""
    if r["metric"] != "output_tok_s_eagle":
        return None
    k, acc = _draft_length(r["notes"]), _acceptance(r["notes"])
    hw = next((v for g, v in HARDWARE.items() if r["gpu"].startswith(g)), None)
    model = MODELS.get(r["model"])
    if None in (k, acc, hw, model):
        return None
    eager = r["cuda_graphs"].strip().lower() == "false"
    runtime = r["runtime"]
    spec = Speculative(k=k, mean_accepted_tokens=acc, draft="eagle")
    # the runtime as bundled, minus the parameter being fitted (so a refit never sees its own value)
    ex = replace(Execution.of(load_runtime(runtime), load_hardware(hw)), cuda_graphs=not eager,
                 host_per_draft_step_s=0.0)
    # runtime=None: `ex` is already the resolved runtime (its kernel calibration follows ex.runtime_id)
    g = perfsim.generate(model, hw, 1, PROMPT_TOKENS, OUTPUT_TOKENS, spec, execution=ex, runtime=None)
    device_s = g.e2e_s / OUTPUT_TOKENS
    key = f"row{i} ({runtime}, k={k}, acceptance {acc}, {'eager' if eager else 'graphs'})"
    features = {"per_draft_step": k / acc} if eager else {}
    return HostRow(key, 1.0 / float(r["value"]), device_s, features, r["source_url"]), eager, runtime


def rows_by_runtime(path: Path = DATA) -> dict[str, tuple[list[HostRow], list[HostRow]]]:
    """{runtime: (eager fit rows, graph validation rows)}."""
    out: dict[str, tuple[list[HostRow], list[HostRow]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=1):
            priced = _row(i, r)
            if priced is None:
                continue
            row, eager, runtime = priced
            fit, validate = out.setdefault(runtime, ([], []))
            (fit if eager else validate).append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write per_draft_step into runtimes/<id>.yaml")
    args = ap.parse_args(argv)
    for runtime, (fit_rows, validation) in sorted(rows_by_runtime().items()):
        result = fit_runtime(fit_rows, validation, candidates=("per_draft_step",))
        value = result.fit.values.get("per_draft_step")
        print(f"{runtime}: per_draft_step = "
              + (f"{value * 1e3:.3f} ms" if value is not None else "not identifiable")
              + f" from {len(fit_rows)} eager row(s)")
        for loo in result.loo:
            print(f"  LOO {loo.key}: {loo.error:+.1%}")
        for key, err in result.in_sample.items():
            print(f"  fit {key}: {err:+.1%}")
        for key, err in result.validation.items():
            print(f"  validation {key}: {err:+.1%}")
        loo_err = median_abs([r.error for r in result.loo])
        if args.write and value is not None and loo_err is not None:
            _write(runtime, value, [r.key.split(" ")[0] for r in fit_rows], loo_err)
    return 0


def _write(runtime: str, value_s: float, rows: list[str], loo_err: float) -> None:
    """Add or replace `per_draft_step` in the runtime's host block, other entries untouched."""
    import yaml

    path = ROOT / "runtimes" / f"{runtime}.yaml"
    text = path.read_text(encoding="utf-8")
    entries = dict(yaml.safe_load(text).get("host") or {})
    entries["per_draft_step"] = {
        "value_s": float(f"{value_s:.4g}"),
        "source": f"benchmarks/data/runtime_measurements.csv {' '.join(rows)} (eager EAGLE runs); "
                  f"LOO median abs error {loo_err:.1%}",
        "fitted_by": "benchmarks/fit_draft_host.py",
    }
    comment = "host costs fitted by benchmarks/fit_runtime_host.py and benchmarks/fit_draft_host.py"
    path.write_text(replace_host_block(text, host_block(entries, comment)), encoding="utf-8")
    print(f"  wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
