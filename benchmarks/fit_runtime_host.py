"""Fit each runtime's host costs to the public measurements in benchmarks/data/runtime_measurements.csv.

Every usable row is priced with perfsim's kernel-only prediction (decode_step / prefill / generate
under the runtime's kernels, CUDA graphs as the row ran, host costs 0); the gap to the measured
time is fitted per runtime as per_step + per_seq_per_step x running sequences (+ per_kernel_eager
x kernels launched, for eager rows) by non-negative least squares on relative error
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
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import perfsim
from perfsim import Execution
from perfsim.calibration.host import (
    HostRow,
    fit_runtime,
    host_block,
    median_abs,
    rel_error,
    replace_host_block,
)
from perfsim.errors import PerfsimInputError
from perfsim.spec.runtime import RuntimeProfile

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SCRIPT = "benchmarks/fit_runtime_host.py"
#: A fit row whose kernel-only price exceeds the measurement by more than this factor says
#: nothing about host cost (which is >= 0); it is set aside with the reason.
OVERSHOOT = 1.10
FITTED = ("per_step", "per_seq_per_step", "per_kernel_eager", "per_request")

SOURCES = [
    ("ree2raz/inference-bench", "S1"),
    ("ai.wmx.dev", "S2"),
    ("fp8-kvcache", "S3"),
    ("perf-update", "S4"),
    ("sglang/pull/1401", "S5"),
    ("llama.cpp/", "S6"),
    ("vllm/pull/", "S7"),
    ("EAGLE/pull/173", "S8"),
    ("sglang/pull/4247", "S8"),
    ("2605.30571", "S9"),
    ("benchmark_results", "S10"),
    ("jetson-generative-ai", "S11"),
    ("jetson-containers", "S11"),
    ("TensorRT-LLM", "S12"),
    ("yobitel", "S13"),
    ("kvcached", "S13"),
    ("musgrave", "S13"),
    ("smolhub", "S13"),
    ("sglang/issues/1369", "S14"),
]

# (pattern on the csv `gpu`, hardware id or None, assumption or reason). First match wins.
GPUS = [
    (r"^H100 SXM", "h100-sxm", ""),
    (r"^H100 PCIe", "h100-pcie", ""),
    (r"^H100( \(SXM presumed\)| \(stated|$)", "h100-sxm", "H100 variant unstated: SXM assumed"),
    (r"^unknown \(likely H100\)", "h100-sxm", "GPU not stated (source: 'likely H100'): H100 SXM assumed"),
    (r"^unknown", None, "GPU not stated"),
    (r"^L4$", "l4", ""),
    (r"^L40S$", "l40s", ""),
    (r"^B200$", "b200", ""),
    (r"^RTX 4090$", "rtx-4090", ""),
    (r"^A10G", "a10g", ""),
    (r"^A100 40GB", None, "A100 40GB has no hardware profile (only a100-sxm-80gb)"),
    (r"^A100 \(40/80", None, "A100 memory variant (40 vs 80 GB) not stated"),
    (r"^A100 80GB|^A100 \(80GB SXM assumed", "a100-sxm-80gb", "A100 80GB form factor unstated: SXM assumed"),
    (r"^Jetson AGX Orin 64GB", "jetson-agx-orin-64gb", "power mode unstated: profile's mode assumed"),
    (
        r"^Jetson AGX Orin",
        "jetson-agx-orin-64gb",
        "AGX Orin variant and power mode unstated: 64GB profile assumed",
    ),
    (r"^Jetson Orin Nano", "jetson-orin-nano-8gb", ""),
    (r"^Jetson", None, "Jetson device not stated"),
]

MODELS = {
    "Qwen/Qwen2.5-0.5B-Instruct": ("qwen2.5-0.5b", ""),
    "Qwen/Qwen2.5-7B-Instruct": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct (paper: Qwen-2.5-7B)": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct-AWQ": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct-GGUF": ("qwen2.5-7b", ""),
    "Qwen/Qwen3-0.6B": ("qwen3-0.6b", ""),
    "Qwen/Qwen3-30B-A3B": ("qwen3-30b-a3b", ""),
    "Qwen/Qwen3-30B-A3B (AWQ checkpoint)": ("qwen3-30b-a3b", ""),
    "RedHatAI/Qwen3-8B-quantized.w4a16": ("qwen3-8b", ""),
    "RedHatAI/Qwen3-30B-A3B-quantized.w4a16": ("qwen3-30b-a3b", ""),
    "meta-llama/Llama-3.1-8B": ("llama-3.1-8b", ""),
    "meta-llama/Llama-3.1-8B-Instruct": ("llama-3.1-8b", ""),
    "meta-llama/Meta-Llama-3-8B": ("llama-3.1-8b", "Llama-3-8B priced as llama-3.1-8b (same layers)"),
    "meta-llama/Meta-Llama-3-8B-Instruct": (
        "llama-3.1-8b",
        "Llama-3-8B priced as llama-3.1-8b (same layers)",
    ),
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16": ("llama-3.1-8b", ""),
    "meta-llama/Llama-3.1-8B-Instruct (MLC)": ("llama-3.1-8b", ""),
    "meta-llama/Llama-2-7b-hf": ("llama-2-7b", ""),
    "meta-llama/Llama-2-7b-chat-hf": ("llama-2-7b", ""),
    "codellama/CodeLlama-7b-hf": ("llama-2-7b", "CodeLlama-7B priced as llama-2-7b (same layers)"),
    "openai/gpt-oss-20b": ("gpt-oss-20b", ""),
    "openai/gpt-oss-120b": ("gpt-oss-120b", ""),
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct": ("deepseek-v2-lite", ""),
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Base": ("deepseek-v2-lite", ""),
}

INT4 = ("awq", "gptq", "w4a16", "q4", "nf4", "int4")


class Unpriceable(Exception):
    pass


def source_id(url: str) -> str:
    return next((s for pat, s in SOURCES if pat.lower() in url.lower()), "S?")


def first_int(text: str) -> int | None:
    m = re.match(r"^\s*(?:<=|~)?\s*(\d+)", text or "")
    return int(m.group(1)) if m else None


def role(r: dict) -> tuple[str, str]:
    """('fit' | 'validate' | 'exclude', reason), as runtime_measurements.md suggests."""
    rt, metric, url, notes = r["runtime"], r["metric"], r["source_url"], r["notes"]
    conc = r["concurrency"]
    if metric.endswith(("_fraction", "speedup")) or metric == "fraction_of_memory_floor":
        return "exclude", "a ratio or time share, not a time"
    if metric.endswith("_eagle"):
        return "exclude", (
            "speculative decoding: acceptance length or draft tree (topk, draft tokens) "
            "not stated with the value; per_draft_step not fitted from it"
        )
    if rt == "sglang" and "awq" in r["weights_dtype"] and r["gpu"] == "L4":
        return "exclude", "pathological SGLang AWQ kernel path on L4 (the .md: not host cost)"
    if "enable-mla" in notes:
        return "exclude", "slow kernel path (MLA on triton without graphs, sglang #1369)"
    if first_int(r["batch"]) is None and first_int(conc) is None:
        return "exclude", f"running batch not stated (concurrency '{conc}')"
    c = first_int(r["batch"]) or first_int(conc) or 1
    if metric == "ttft_ms" and c > 1:
        return "exclude", "TTFT at concurrency > 1 includes queueing behind other prefills"
    if metric == "output_tok_s" and c > 1:
        return "exclude", "aggregate throughput at concurrency > 1 (needs the serving simulator)"
    if c >= 16 and first_int(r["input_len"]) is None:
        return "exclude", "high concurrency with unstated lengths: TPOT includes prefill interference"
    if "cuda_graph" not in notes and r["cuda_graphs"].startswith("unknown"):
        return "exclude", "CUDA graphs on/off not known"
    s = source_id(url)
    fit = {
        "vllm": (s == "S2" and metric == "itl_ms")
        or (s == "S3" and metric == "itl_intercept_ms" and r["gpu"] == "H100" and r["kv_dtype"] == "bf16")
        or (s == "S13" and "kvcached" in url)
        or (s == "S1" and "enforce-eager" in notes and metric == "tpot_ms"),
        "sglang": s == "S5",
        "llama.cpp": (s == "S6" and ("6766" in url or "6763" in url)) or "smolhub" in url,
        "mlc-llm": s == "S11" and ("original" in r["power_mode"] or "Super" in r["power_mode"]),
        "hf-transformers": s == "S10",
    }.get(rt, False)
    return ("fit", "") if fit else ("validate", "")


@dataclass
class Priced:
    key: str
    runtime: str
    kind: str
    measured_s: float
    hw: object
    model: object
    graphs: bool
    base: Execution
    batch: int
    prompt: int
    output: int
    context: int
    serving: bool
    assumptions: list[str] = field(default_factory=list)

    def total_s(self, host: dict[str, float]) -> tuple[float, dict[str, float]]:
        """perfsim's seconds for this row with host costs `host` ({} = kernel-only, per-kernel 0),
        and the features (units of each host parameter) the row carries."""
        ex = Execution(
            **{
                **self.base.__dict__,
                "host_overhead_per_step_s": host.get("per_step", 0.0),
                "host_per_seq_per_step_s": host.get("per_seq_per_step", 0.0),
                "host_per_kernel_s": host.get("per_kernel_eager", 0.0 if not host else None),
            }
        )
        feats = {"per_step": 1.0, "per_seq_per_step": float(self.batch)}
        req = host.get("per_request", 0.0)
        if self.kind == "decode":
            step = perfsim.decode_step(self.model, self.hw, self.batch, self.context, execution=ex)
            t, kernels = step.latency_s, step.kernels
        elif self.kind == "prefill":
            step = perfsim.prefill(self.model, self.hw, self.batch, self.prompt, execution=ex)
            t, kernels = step.latency_s + req * self.serving, step.kernels
            feats["per_request"] = float(self.serving)
        else:  # e2e seconds per output token of one request
            g = perfsim.generate(self.model, self.hw, self.batch, self.prompt, self.output, execution=ex)
            n = self.output
            t = (g.e2e_s + req * self.serving) / n
            kernels = (g.prefill.kernels + (n - 1) * g.decode.kernels) / n
            feats["per_request"] = float(self.serving) / n
        if not self.graphs:
            feats["per_kernel_eager"] = float(kernels)
        return t, feats


def price(i: int, r: dict) -> Priced:
    gpu = r["gpu"]
    hw_id, note = next(
        ((h, n) for pat, h, n in GPUS if re.search(pat, gpu)), (None, f"no hardware profile for '{gpu}'")
    )
    if hw_id is None:
        raise Unpriceable(note)
    assumptions = [note] if note else []
    if hw_id == "jetson-orin-nano-8gb" and "Super" not in r["power_mode"] and "25W" not in r["power_mode"]:
        raise Unpriceable(f"power mode '{r['power_mode'] or 'not stated'}' has no profile (only super-25w)")
    model_id, mnote = MODELS.get(r["model"], (None, ""))
    if model_id is None:
        raise Unpriceable(f"model '{r['model']}' is not bundled")
    if mnote:
        assumptions.append(mnote)
    w = r["weights_dtype"].lower()
    transforms = []
    if "mxfp4" in w:
        raise Unpriceable("mxfp4 MoE with bf16 attention: one weight dtype per model in perfsim")
    if "not stated" in w:
        raise Unpriceable("weight format not stated")
    if any(k in w for k in INT4):
        transforms.append({"name": "weight_dtype", "dtype": "int4"})
        assumptions.append(f"'{r['weights_dtype']}' priced as int4 (group scales not counted)")
    elif "q8" in w:
        transforms.append({"name": "weight_dtype", "dtype": "int8"})
        assumptions.append("q8_0 priced as int8 (block scales not counted)")
    elif w.startswith("fp8"):
        transforms += [{"name": "weight_dtype", "dtype": "fp8"}, {"name": "activation_dtype", "dtype": "fp8"}]
    elif w.startswith(("fp16", "f16")):
        transforms.append({"name": "weight_dtype", "dtype": "fp16"})
    if r["kv_dtype"].startswith("fp8"):
        transforms.append({"name": "kv_cache_dtype", "dtype": "fp8"})
    model = perfsim.load_model(model_id)
    if transforms:
        model = perfsim.apply_transforms(model, transforms)
    hw = perfsim.load_hardware(hw_id)
    graphs = r["cuda_graphs"].lower().startswith("true")
    try:
        base = Execution.of(perfsim.load_runtime(r["runtime"]), hw, cuda_graphs=graphs, host_per_kernel_s=0.0)
    except (PerfsimInputError, FileNotFoundError, ValueError) as exc:
        base = Execution(cuda_graphs=graphs, host_per_kernel_s=0.0)
        assumptions.append(f"runtime kernels not applied ({str(exc)[:60]}...)")
    batch = first_int(r["batch"]) or first_int(r["concurrency"]) or 1
    metric, v = r["metric"], float(r["value"])
    inp, out = first_int(r["input_len"]), first_int(r["output_len"])
    serving = source_id(r["source_url"]) in ("S1", "S2")
    if metric in ("tpot_ms", "itl_ms", "decode_step_ms", "itl_intercept_ms", "decode_tok_s"):
        kind, measured = "decode", (1.0 / v if metric == "decode_tok_s" else v / 1e3)
        if metric == "itl_intercept_ms":
            inp = 0
        if inp is None:
            inp = 128
            assumptions.append("prompt length not stated: 128 assumed")
        if out is None:
            out = 128
            assumptions.append("output length not stated: 128 assumed")
        elif r["input_len"].startswith("<="):
            assumptions.append(f"prompt length '{r['input_len']}': upper bound used")
    elif metric in ("ttft_ms", "prefill_ms", "prefill_tok_s"):
        if inp is None:
            raise Unpriceable("prompt length not stated (prefill time depends on it)")
        kind = "prefill"
        measured = inp / v if metric == "prefill_tok_s" else v / 1e3
    elif metric == "output_tok_s":
        if inp is None or out is None:
            raise Unpriceable("prompt or output length not stated (end-to-end rate includes prefill)")
        kind, measured = "e2e", 1.0 / v
    else:
        raise Unpriceable(f"metric '{metric}' is not a step time")
    context = max(1, inp + (out or 0) // 2)
    p = Priced(
        f"row{i + 1}",
        r["runtime"],
        kind,
        measured,
        hw,
        model,
        graphs,
        base,
        batch,
        max(1, inp),
        out or 1,
        context,
        serving and kind != "decode",
        assumptions,
    )
    try:
        p.total_s({})
    except PerfsimInputError as exc:
        raise Unpriceable(f"perfsim refuses it: {exc}") from None
    return p


def host_row(p: Priced, source: str) -> HostRow:
    t, feats = p.total_s({})
    return HostRow(p.key, p.measured_s, t, feats, source)


def load_rows(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    fit, val, excluded = {}, {}, []
    for i, r in enumerate(rows):
        what, why = role(r)
        key, src = f"row{i + 1}", source_id(r["source_url"])
        if what == "exclude":
            excluded.append((key, r["runtime"], src, r["metric"], why))
            continue
        try:
            p = price(i, r)
        except Unpriceable as exc:
            excluded.append((key, r["runtime"], src, r["metric"], str(exc)))
            continue
        (fit if what == "fit" else val).setdefault(r["runtime"], []).append((p, src))
    return rows, fit, val, excluded


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
        res = fit_runtime(fit_rows, val_rows, FITTED)
        # perfsim's own predictor with the fitted values (eager launch recurrence, per-kernel
        # cost None -> the profile's raw launch cost when not fitted)
        values = dict(res.fit.values)
        check = {}
        for p, _ in fit.get(rt, []) + val.get(rt, []):
            t, _ = p.total_s({"per_kernel_eager": None, **values})
            check[p.key] = rel_error(t, p.measured_s)
        results[rt] = (res, fit.get(rt, []), val.get(rt, []), check)
    return results, excluded


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
    RuntimeProfile.model_validate(yaml.safe_load(new))  # never write a file that does not load
    path.write_text(new)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DATA / "runtime_measurements.csv")
    ap.add_argument("--out", type=Path, default=DATA / "runtime_host_fit.csv")
    ap.add_argument("--runtimes-dir", type=Path, default=ROOT / "runtimes")
    ap.add_argument(
        "--write", action="store_true", help="replace the host: block of each fitted runtime YAML"
    )
    args = ap.parse_args(argv)
    with open(args.csv, newline="") as f:
        runtimes = sorted({r["runtime"] for r in csv.DictReader(f)})
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
            path = args.runtimes_dir / f"{rt}.yaml"
            if path.exists() and write_yaml(path, rt, res, fitp):
                print(f"wrote host: block of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
