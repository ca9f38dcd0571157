"""Fidelity of perfsim against public edge / small-GPU LLM measurements (issue 19 item 5).

Reads benchmarks/data/edge_measurements.csv (public rows, see the .md next to it),
prices every row that can be expressed with the bundled models, hardware profiles,
weight formats and runtimes, and prints a per-row table plus a summary with the
median |error| per device class. Rows that cannot be priced are listed with the
reason; none are dropped silently.

Conventions (also printed):
  * decode_tok_s  -> batch / decode_step(context = input_len + output_len/2).latency_s
                     (aggregate tokens/s over the batch; equals 1/latency at batch 1).
                     llama-bench "tg128" rows have no prompt: input_len 0.
                     Rows with input_len but no output_len (TensorRT Edge-LLM MTBench
                     runs) are priced at context = input_len and flagged "ctx=in".
  * tpot_ms       -> 1000 x decode_step latency at the same context.
  * prefill_tok_s -> prompt_len x batch / prefill(prompt_len).latency_s
  * output_tok_s  -> batch x output_len / generate(batch, input_len, output_len).e2e_s
                     (max-concurrency runs: all B requests start together).
  * power mode not stated -> the profile's default alias (printed in the "mode" column
    as e.g. "default(maxn)").
  * vLLM on a Jetson -> the vllm-jetson runtime (Arm host costs); runtimes not in
    `perfsim list runtimes` (LMDeploy) -> runtime=None.

Deterministic, offline. Usage: .venv/bin/python benchmarks/fidelity_edge.py [--md PATH]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

import perfsim
from perfsim import transforms

HERE = Path(__file__).resolve().parent
CSV = HERE / "data" / "edge_measurements.csv"

KNOWN_RUNTIMES = {"llama.cpp", "mlc-llm", "vllm", "vllm-jetson", "tensorrt-llm", "tensorrt-edge-llm",
                  "sglang", "hf-transformers", "trt-autodeploy"}


# ---------------------------------------------------------------- mapping ----------

def map_device(device: str, mode: str) -> tuple[str | None, str, str]:
    """Return (profile id, mode label, reason-if-None)."""
    d, m = device.lower(), mode.lower()
    if "thor" in d:
        return "jetson-agx-thor", ("maxn" if "maxn" in m else "default(maxn)"), ""
    if "orin nano" in d:
        base = "jetson-orin-nano-8gb"
        if "super" in d or "maxn_super" in m:
            return base + "-maxn-super", "maxn-super", ""
        if "original" in d or "15w" in m or "pre-super" in m:
            return base + "-15w", "15w", ""
        if "25w" in m:
            return base + "-25w", "25w", ""
        if "7w" in m:
            return base + "-7w", "7w", ""
        alias = perfsim.load_hardware(base).power_mode
        return base, f"default({alias})", ""
    if "agx orin" in d or "igx orin" in d:
        base = "jetson-agx-orin-64gb"
        if "30w" in m:
            return base + "-30w", "30w", ""
        if "50w" in m:
            return base + "-50w", "50w", ""
        if "15w" in m:
            return base + "-15w", "15w", ""
        if "maxn" in m and "not stated" not in m and "assumed" not in m and "likely" not in m:
            return base + "-maxn", "maxn", ""
        if "maxn" in m:
            return base + "-maxn", "maxn(assumed)", ""
        alias = perfsim.load_hardware(base).power_mode
        return base, f"default({alias})", ""
    if "a10g" in d or d.startswith("nvidia a10 "):
        return "a10g", "n/a", ""
    if "4090" in d:
        return "rtx-4090", "n/a", ""
    if d.strip() == "l4" or "nvidia l4" in d:
        return "l4", "n/a", ""
    return None, mode, f"no hardware profile for {device!r}"


def device_class(profile: str | None, device: str) -> str:
    p = profile or ""
    if p.startswith("jetson-orin-nano"):
        return "Orin Nano"
    if p.startswith("jetson-agx-orin"):
        return "AGX Orin"
    if p.startswith("jetson-agx-thor"):
        return "Thor"
    if p in ("a10g", "l4"):
        return "A10G/L4"
    return "other"


# (substring in the published model string, lower case) -> (bundled id or None, note)
# Order matters: first match wins. Exact family/size only; no size substitution.
MODEL_MAP: list[tuple[str, str | None, str]] = [
    ("qwen3.5-35b", None, "Qwen3.5-35B-A3B (hybrid attention MoE) not bundled"),
    ("qwen3-vl-4b", None, "Qwen3-VL-4B (Qwen3-4B LLM) not bundled"),
    ("qwen2.5-vl-3b", "qwen2.5-3b", "LLM of Qwen2.5-VL-3B = Qwen2.5-3B (decode only)"),
    ("qwen3-4b", None, "Qwen3-4B not bundled"),
    ("qwen3-30b-a3b", "qwen3-30b-a3b", ""),
    ("qwen3-32b", "qwen3-32b", ""),
    ("qwen3-8b", "qwen3-8b", ""),
    ("qwen3-1.7b", "qwen3-1.7b", ""),
    ("qwen3-0.6b", "qwen3-0.6b", ""),
    ("qwen2.5-7b", "qwen2.5-7b", ""),
    ("qwen2.5-0.5b", "qwen2.5-0.5b", ""),
    ("distill-qwen-32b", None, "DeepSeek-R1-Distill-Qwen-32B (Qwen2.5-32B) not bundled"),
    ("distill-qwen-14b", None, "DeepSeek-R1-Distill-Qwen-14B (Qwen2.5-14B) not bundled"),
    ("distill-llama-70b", "llama-3.1-70b", "Llama-3.x-70B architecture"),
    ("llama-3.3-70b", "llama-3.1-70b", "Llama-3.3-70B = Llama-3.1-70B architecture"),
    ("llama-3.1-8b", "llama-3.1-8b", ""),
    ("llama-3.2-1b", None, "Llama-3.2-1B not bundled"),
    ("llama-3.2-3b", None, "Llama-3.2-3B not bundled"),
    ("llama-2-70b", None, "Llama-2-70B not bundled"),
    ("llama-2-13b", None, "Llama-2-13B not bundled"),
    ("llama-2-7b", "llama-2-7b", ""),
    ("codellama-7b", "llama-2-7b", "CodeLlama-7B = Llama-2-7B architecture (vocab +16, rope theta differ)"),
    ("nemotron-3-nano-30b-a3b", "nemotron-3-nano-30b-a3b", ""),
    ("nemotron-mini-4b", None, "Nemotron-Mini-4B not bundled"),
    ("gemma-2b", "gemma-2b", ""),
    ("gemma-2", None, "Gemma-2 not bundled"),
    ("phi-3.5", None, "Phi-3.5-mini not bundled"),
    ("smollm2", None, "SmolLM2 not bundled"),
    ("minicpm", None, "MiniCPM4.1-8B not bundled"),
]


def map_model(model: str) -> tuple[str | None, str]:
    m = model.lower()
    for key, mid, note in MODEL_MAP:
        if key in m:
            return mid, note
    return None, f"model {model!r} not bundled"


def map_format(precision: str, quant: str) -> tuple[str | None, str | None, str]:
    """Return (weight format, activation dtype or None, reason-if-None)."""
    p, q = precision.lower(), quant.lower()
    if "nvfp4" in q or "nvfp4" in p:
        act = "fp4" if "w4a4" in p else None
        return "nvfp4", act, ""
    if "q4_k_m" in q:
        return "q4_k_m", None, ""
    if "q8_0" in q:
        return "q8_0", None, ""
    if "q4_0" in q:
        return None, None, "GGUF Q4_0 is not a supported weight format"
    if "gguf f16" in q:
        return "fp16", None, ""
    if "gguf 4-bit" in q:
        return None, None, "GGUF 4-bit, K-quant type not stated"
    if "awq/gptq not stated" in q:  # bytes differ by 0.8 % (4.156 vs 4.125 bits)
        return "int4_gptq", None, ""
    if "awq" in q:
        return "int4_awq", None, ""
    if "gptq" in q or "compressed-tensors w4a16" in q or "q4f16_ft" in q:
        return "int4_gptq", None, ""
    if "int8 weight-only" in q:
        return "int8", None, ""
    if q == "none" and ("fp16" in p or "bf16" in p):
        return ("bf16" if p.startswith("bf16") else "fp16"), None, ""
    return None, None, f"weight format not stated ({precision!r} / {quant!r})"


def map_runtime(runtime: str) -> tuple[str | None, str]:
    r = runtime.lower()
    if r.startswith("llama.cpp"):
        return "llama.cpp", "llama.cpp"
    if r.startswith("mlc"):
        return "mlc-llm", "mlc-llm"
    if r.startswith("vllm"):
        return "vllm", "vllm"
    if "edge-llm" in r:
        return "tensorrt-edge-llm", "tensorrt-edge-llm"
    if r.startswith("tensorrt"):
        return "tensorrt-llm", "tensorrt-llm"
    if r.startswith("sglang"):
        return "sglang", "sglang"
    if r.startswith("hf transformers"):
        return "hf-transformers", "hf-transformers"
    return None, f"None({runtime})"


def as_int(s: str) -> int | None:
    s = s.strip()
    return int(s) if s.isdigit() else None


# ---------------------------------------------------------------- pricing ----------

#: Runtimes whose host costs benchmarks/fit_runtime_host.py fits to rows that are also in this
#: table (TensorRT Edge-LLM docs 0.9.1, Jetson AI Lab vLLM and MLC, the L4 vLLM runs):
#: --held-out prices their rows without a runtime, so no row is scored against a fit that saw it.
FITTED_ON_THIS_TABLE = {"tensorrt-edge-llm", "vllm-jetson", "mlc-llm", "vllm"}


def price(row: dict, held_out: bool = False) -> dict:
    out = {
        "device": row["device"], "metric": row["metric"], "published": float(row["value"]),
        "mode": "", "model": row["model"][:28], "format": "", "runtime": "",
        "predicted": None, "err": None, "reason": "", "flag": "", "profile": None,
    }
    hw_id, mode, why = map_device(row["device"], row["power_mode"])
    out["profile"], out["mode"] = hw_id, mode
    out["class"] = device_class(hw_id, row["device"])
    if hw_id and hw_id.startswith("jetson-agx-orin") and "64gb" not in row["device"].lower():
        out["flag"] = "64GB variant assumed"
    if hw_id == "a10g" and "a10g" not in row["device"].lower().split("(")[0]:
        out["flag"] = "A10 on the A10G profile"
    mid, mnote = map_model(row["model"])
    out["flag"] = " ".join(x for x in (out["flag"], mnote if mid else "") if x)
    fmt, act, fwhy = map_format(row["precision"], row["quant_format"])
    out["format"] = (fmt or "?") + (f"/a{act}" if act else "")
    rt, rt_label = map_runtime(row["runtime"])
    if rt == "vllm" and hw_id and hw_id.startswith("jetson"):
        rt, rt_label = "vllm-jetson", "vllm-jetson"
    if held_out and rt in FITTED_ON_THIS_TABLE:
        rt, rt_label = None, f"None(held out: {rt})"
    out["runtime"] = rt_label
    if mid:
        out["model"] = mid
    metric = row["metric"]
    B, P, n_out = as_int(row["batch"]), as_int(row["input_len"]), as_int(row["output_len"])

    def fail(reason: str) -> dict:
        out["reason"] = reason
        return out

    if hw_id is None:
        return fail(why)
    if mid is None:
        return fail(mnote)
    if fmt is None:
        return fail(fwhy)
    if B is None:
        return fail(f"batch not a fixed concurrency ({row['batch']!r}); needs a serving simulation")
    if metric == "itl_ms":  # mean inter-token latency of a fixed-concurrency run = TPOT
        if P is None or n_out is None:
            return fail("itl_ms with input/output lengths not stated")
        metric = "tpot_ms"
    if metric not in ("decode_tok_s", "tpot_ms", "prefill_tok_s", "output_tok_s"):
        return fail(f"metric {metric} not expressible")

    ctx = None
    if metric in ("decode_tok_s", "tpot_ms"):
        if n_out is not None and P is not None:
            ctx = P + n_out // 2
        elif n_out is not None and P is None and "llama" in rt_label and row["input_len"].strip() == "":
            ctx, out["flag"] = n_out // 2, (out["flag"] + " tg: in=0").strip()
        elif P is not None and n_out is None and row["output_len"].strip() == "":
            ctx, out["flag"] = P, (out["flag"] + " ctx=in").strip()
        else:
            return fail("input/output lengths not stated")
    elif metric == "prefill_tok_s":
        if P is None:
            return fail("prompt length not stated")
    elif metric == "output_tok_s":
        if P is None or n_out is None:
            return fail("input/output lengths not stated")

    try:
        model = perfsim.load_model(mid)
        ts = [transforms.WeightDType(fmt)]
        if act:
            ts.append(transforms.ActivationDType(act))
        model = perfsim.apply_transforms(model, ts)
        hw = perfsim.load_hardware(hw_id)
        if metric in ("decode_tok_s", "tpot_ms"):
            lat = perfsim.decode_step(model, hw, batch=B, context_len=ctx, runtime=rt).latency_s
            pred = B / lat if metric == "decode_tok_s" else 1000.0 * lat
        elif metric == "prefill_tok_s":
            lat = perfsim.prefill(model, hw, batch=B, prompt_len=P, runtime=rt).latency_s
            pred = P * B / lat
        else:
            res = perfsim.generate(model, hw, batch=B, prompt_len=P, output_len=n_out, runtime=rt)
            pred = B * n_out / res.e2e_s
    except Exception as e:  # out of memory, unsupported format on this hardware, ...
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return fail(f"{type(e).__name__}: {msg[:110]}")
    out["predicted"] = pred
    out["err"] = 100.0 * (pred - out["published"]) / out["published"]
    return out


# ---------------------------------------------------------------- report -----------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(CSV))
    ap.add_argument("--strict", action="store_true",
                    help="treat decode rows without a stated output_len (ctx=in) as not expressible")
    ap.add_argument("--md", default=None, help="also write the tables as markdown to this path")
    ap.add_argument("--held-out", action="store_true",
                    help="price rows of runtimes whose host costs were fitted on rows of this table "
                         "(tensorrt-edge-llm, vllm-jetson, mlc-llm, vllm) without a runtime")
    args = ap.parse_args(argv)

    rows = list(csv.DictReader(open(args.csv, newline="", encoding="utf-8")))
    results = [price(r, args.held_out) for r in rows]
    if args.strict:
        for r in results:
            if r["predicted"] is not None and "ctx=in" in r["flag"]:
                r["predicted"], r["err"] = None, None
                r["reason"] = "output length not stated (--strict)"

    lines: list[str] = []
    p = lines.append
    p("Edge fidelity: perfsim vs public edge measurements (benchmarks/data/edge_measurements.csv)")
    p("decode ctx = input_len + output_len/2; decode_tok_s = B/latency; prefill_tok_s = P*B/latency;"
      " output_tok_s = B*O/generate e2e; unstated power mode -> profile default alias.")
    p("")
    hdr = f"{'row':>3} {'class':<10} {'mode':<19} {'model':<16} {'format':<12} {'runtime':<18} " \
          f"{'metric':<13} {'B':>2} {'published':>10} {'predicted':>10} {'err %':>8}  note"
    p(hdr)
    p("-" * len(hdr))
    priced = [r for r in results if r["predicted"] is not None]
    for i, r in enumerate(results):
        if r["predicted"] is None:
            continue
        p(f"{i + 1:>3} {r['class']:<10} {r['mode']:<19} {r['model']:<16} {r['format']:<12} "
          f"{r['runtime']:<18} "
          f"{r['metric']:<13} {rows[i]['batch']:>2} {r['published']:>10.2f} {r['predicted']:>10.2f} "
          f"{r['err']:>+8.1f}  {r['flag']}")
    p("")
    p("Not expressible (row = 1-based data row, device, model, metric: reason):")
    reasons: dict[str, int] = {}
    for i, r in enumerate(results):
        if r["predicted"] is not None:
            continue
        p(f"{i + 1:>3} {r['class']:<10} {rows[i]['device'][:24]:<24} {rows[i]['model'][:34]:<34} "
          f"{r['metric']:<13}: {r['reason']}")
        key = "model not bundled" if "not bundled" in r["reason"] else r["reason"]
        reasons[key] = reasons.get(key, 0) + 1
    p("")
    p("Summary")
    p(f"  rows: {len(results)}; priced: {len(priced)}; not expressible: {len(results) - len(priced)}")
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
        p(f"    {v:>3} x {k}")
    for cls in ("Orin Nano", "AGX Orin", "Thor", "A10G/L4", "other"):
        errs = [abs(r["err"]) for r in priced if r["class"] == cls]
        strict = [abs(r["err"]) for r in priced if r["class"] == cls and "ctx=in" not in r["flag"]]
        if errs:
            p(f"  {cls:<10} n={len(errs):>3}  median |err| = {statistics.median(errs):6.1f} %"
              f"   (excluding ctx=in rows: n={len(strict)}, "
              f"{statistics.median(strict):.1f} %)" if strict else
              f"  {cls:<10} n={len(errs):>3}  median |err| = {statistics.median(errs):6.1f} %")
        else:
            p(f"  {cls:<10} n=  0")
    if priced:
        allerr = [abs(r["err"]) for r in priced]
        p(f"  all        n={len(allerr):>3}  median |err| = {statistics.median(allerr):6.1f} %")
    text = "\n".join(lines)
    print(text)
    if args.md:
        Path(args.md).write_text("# Edge fidelity (generated by benchmarks/fidelity_edge.py)\n\n```\n"
                                 + text + "\n```\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
