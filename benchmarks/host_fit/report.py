"""Markdown / CSV tables of a host-cost fit and the fitted host: block of a runtime YAML."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

import perfsim
from perfsim.calibration.host import host_block, median_abs, replace_host_block
from perfsim.spec.runtime import RuntimeProfile

SCRIPT = "benchmarks/fit_runtime_host.py"


def pct(x, sign: bool = True) -> str:
    return "n/a" if x is None else (f"{100 * x:+.1f}%" if sign else f"{100 * x:.1f}%")


def report(results, excluded) -> tuple[list[dict], str]:
    table, md = (
        [],
        [
            "# Runtime host-cost fit (benchmarks/fit_runtime_host.py)",
            "",
            "Generated from `runtime_measurements.csv`; do not edit. Errors are (predicted - "
            "measured) / measured; rowN is the N-th data row of the csv (file line N + 1). "
            "LOO: refit without the row, predict it. 'perfsim' columns "
            "re-run perfsim's own predictor with the fitted values (eager launch overlap "
            "included), so they can differ from the linear fit.",
            "",
            "## Parameters",
            "",
            "| runtime | parameter | value | n | LOO median abs | LOO max abs | rows / note |",
            "|---|---|---|---|---|---|---|",
        ],
    )
    for rt, (res, _, _, _) in results.items():
        for pr in res.parameters:
            table.append(
                dict(
                    runtime=rt,
                    parameter=pr.name,
                    value_s="" if pr.value_s is None else f"{pr.value_s:.4g}",
                    n_rows=pr.n_rows,
                    rows=" ".join(pr.rows),
                    loo_median_abs_error=""
                    if pr.loo_median_abs_error is None
                    else f"{pr.loo_median_abs_error:.4f}",
                    loo_max_abs_error="" if pr.loo_max_abs_error is None else f"{pr.loo_max_abs_error:.4f}",
                    validation_median_abs_error=""
                    if not res.validation
                    else f"{median_abs(res.validation.values()):.4f}",
                    n_validation=len(res.validation),
                    note=pr.note or "identified",
                )
            )
            val = "not identifiable" if pr.value_s is None else f"{pr.value_s * 1e3:.3f} ms"
            loo = pr.loo_median_abs_error
            md.append(
                f"| {rt} | {pr.name} | {val} | {pr.n_rows} | {'' if loo is None else f'{100 * loo:.1f}%'} "
                f"| {'' if pr.loo_max_abs_error is None else f'{100 * pr.loo_max_abs_error:.1f}%'} "
                f"| {' '.join(pr.rows)}{' — ' + pr.note if pr.note else ''} |"
            )
    md += [
        "",
        "## Rows per runtime",
        "",
        "| runtime | row | src | role | gpu | model | kind | batch | measured | kernel-only | fit | LOO "
        "| perfsim | assumptions |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rt, (res, fitp, valp, check) in results.items():
        loo = {r.key: r.error for r in res.loo}
        for role_name, group, errs in (("fit", fitp, res.in_sample), ("validate", valp, res.validation)):
            for p, src in group:
                dev, _ = p.total_s({})
                md.append(
                    f"| {rt} | {p.key} | {src} | {role_name} | {p.hw.id} | {p.model.id} | {p.kind} "
                    f"| {p.batch} "
                    f"| {p.measured_s * 1e3:.2f} ms | {dev * 1e3:.2f} ms | {pct(errs.get(p.key))} "
                    f"| {pct(loo.get(p.key)) if role_name == 'fit' else ''} | {pct(check[p.key])} "
                    f"| {'; '.join(p.assumptions)} |"
                )
    md += [
        "",
        "## Validation summary (rows not fitted)",
        "",
        "| runtime | n | median abs (fit) | median abs (perfsim) |",
        "|---|---|---|---|",
    ]
    for rt, (res, _, valp, check) in results.items():
        md.append(
            f"| {rt} | {len(res.validation)} | {pct(median_abs(res.validation.values()), False)} "
            f"| {pct(median_abs(check[p.key] for p, _ in valp), False)} |"
        )
    md += ["", "## Rows not used", "", "| row | runtime | src | metric | reason |", "|---|---|---|---|---|"]
    md += [f"| {k} | {rt} | {s} | {m} | {why} |" for k, rt, s, m, why in excluded]
    return table, "\n".join(md) + "\n"


def write_yaml(path: Path, rt: str, res, fitp) -> bool:
    """Replace the host: block of runtimes/<rt>.yaml with the fitted parameters (entries not
    fitted by this script are kept). False when nothing was fitted."""
    if not res.fit.values:
        return False
    text = path.read_text()
    old = (yaml.safe_load(text) or {}).get("host") or {}
    entries = {k: v for k, v in old.items() if (v or {}).get("fitted_by") != SCRIPT}
    srcs = {p.key: s for p, s in fitp}
    for pr in res.parameters:
        if pr.value_s is None:
            continue
        rows = ", ".join(f"{k} ({srcs[k]})" for k in pr.rows)
        entries[pr.name] = {
            "value_s": float(f"{pr.value_s:.4g}"),
            "source": (
                f"benchmarks/data/runtime_measurements.csv {rows}; LOO median "
                f"abs error {100 * pr.loo_median_abs_error:.1f}% "
                "(benchmarks/data/runtime_host_fit.md)"
            ),
            "fitted_by": SCRIPT,
        }
    new = replace_host_block(
        text, host_block(entries, f"host costs fitted by {SCRIPT} (see runtime_host_fit.md)")
    )
    _check_loads(path, new)  # never write a file that does not load
    path.write_text(new)
    return True


def _check_loads(path: Path, text: str) -> None:
    """Validate `text` as the runtime file `path`; a `base:` file is merged onto its base first."""
    if "base" not in (yaml.safe_load(text) or {}):
        RuntimeProfile.model_validate(yaml.safe_load(text))
        return
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / path.name
        trial.write_text(text)
        perfsim.load_runtime(str(trial))
