"""Which rows of runtime_measurements.csv are used, and how their settings map onto perfsim ids."""

from __future__ import annotations

import re

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
    ("TensorRT-Edge-LLM", "S15"),
    ("TensorRT-LLM", "S12"),
    ("yobitel", "S13"),
    ("kvcached", "S13"),
    ("musgrave", "S13"),
    ("smolhub", "S13"),
    ("sglang/issues/1369", "S14"),
    ("silybench", "S16"),
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
    (r"^Jetson AGX Thor", "jetson-agx-thor", ""),
    (r"^Jetson", None, "Jetson device not stated"),
]

MODELS = {
    "Qwen/Qwen2.5-0.5B-Instruct": ("qwen2.5-0.5b", ""),
    "Qwen/Qwen2.5-7B-Instruct": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct (paper: Qwen-2.5-7B)": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct-AWQ": ("qwen2.5-7b", ""),
    "Qwen/Qwen2.5-7B-Instruct-GGUF": ("qwen2.5-7b", ""),
    "Qwen/Qwen3-0.6B": ("qwen3-0.6b", ""),
    "Qwen/Qwen3-1.7B": ("qwen3-1.7b", ""),
    "Qwen/Qwen3-8B": ("qwen3-8b", ""),
    "Qwen/Qwen2.5-VL-3B-Instruct (LLM decode)": ("qwen2.5-3b", "LLM of Qwen2.5-VL-3B priced as qwen2.5-3b"),
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
    "google/gemma-2b": ("gemma-2b", ""),
    "meta-llama/Llama-2-7b-chat-hf": ("llama-2-7b", ""),
    "codellama/CodeLlama-7b-hf": ("llama-2-7b", "CodeLlama-7B priced as llama-2-7b (same layers)"),
    "openai/gpt-oss-20b": ("gpt-oss-20b", ""),
    "openai/gpt-oss-120b": ("gpt-oss-120b", ""),
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct": ("deepseek-v2-lite", ""),
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Base": ("deepseek-v2-lite", ""),
}

#: (substring of the csv `weights_dtype`, lower case) -> (perfsim weight format, assumption). First
#: match wins; formats with exact bits (group scales included) from perfsim.units.WEIGHT_FORMAT_BITS.
WEIGHT_FORMATS = [
    ("awq/gptq not stated", "int4_gptq", "INT4 variant not stated: int4_gptq assumed (4.125 bits)"),
    ("mxfp4", None, "mxfp4 MoE with bf16 attention: one weight dtype per model in perfsim"),
    ("not stated", None, "weight format not stated"),
    ("awq", "int4_awq", ""),
    ("gptq", "int4_gptq", ""),
    ("w4a16", "int4_gptq", "compressed-tensors w4a16 (symmetric, group 128) priced as int4_gptq"),
    ("q4f16", "int4_gptq", "MLC q4f16 (group 32, 4.5 bits) priced as int4_gptq (group 128, 4.125 bits)"),
    ("nf4", "int4_gptq", "bitsandbytes nf4 (block 64) priced as int4_gptq"),
    ("q4_k_m", "q4_k_m", ""),
    ("q4_0", "q4_k", "GGUF Q4_0 priced as Q4_K (both 4.5 bits per weight)"),
    ("q8_0", "q8_0", ""),
    ("q8", "q8_0", ""),
    ("int4", "int4_gptq", "int4 variant not stated: priced as int4_gptq"),
    ("int8 weight-only", "int8", ""),
]


def weight_transforms(weights_dtype: str) -> tuple[list[dict], str]:
    """perfsim transforms for the csv weight format, and the assumption made (or raise)."""
    w = weights_dtype.lower()
    if w.startswith("nvfp4"):  # W4A4 on Blackwell FP4 tensor cores
        return [{"name": "weight_dtype", "dtype": "nvfp4"}, {"name": "activation_dtype", "dtype": "fp4"}], ""
    for key, fmt, note in WEIGHT_FORMATS:
        if key in w:
            if fmt is None:
                raise Unpriceable(note)
            return [{"name": "weight_dtype", "dtype": fmt}], note
    if w.startswith("fp8"):
        return [{"name": "weight_dtype", "dtype": "fp8"}, {"name": "activation_dtype", "dtype": "fp8"}], ""
    if w.startswith(("fp16", "f16")):
        return [{"name": "weight_dtype", "dtype": "fp16"}], ""
    return [], ""


def orin_nano_mode(power_mode: str) -> str:
    """The Orin Nano power-mode profile a row ran in (Super / 25 W, the original 15 W, 7 W)."""
    mode = power_mode.lower()
    if "super" in mode or "maxn" in mode:
        return "jetson-orin-nano-8gb-maxn-super"
    if "25w" in mode:
        return "jetson-orin-nano-8gb-25w"
    if "7w" in mode:
        return "jetson-orin-nano-8gb-7w"
    if "original" in mode or "15w" in mode:
        return "jetson-orin-nano-8gb-15w"
    raise Unpriceable(f"power mode '{power_mode or 'not stated'}' not stated")


class Unpriceable(Exception):
    pass


def source_id(url: str) -> str:
    return next((s for pat, s in SOURCES if pat.lower() in url.lower()), "S?")


def first_int(text: str) -> int | None:
    m = re.match(r"^\s*(?:<=|~)?\s*(\d+)", text or "")
    return int(m.group(1)) if m else None


def runtime_id(r: dict) -> str:
    """The catalogue runtime a row is fitted to: vLLM on a Jetson is `vllm-jetson` (Arm host)."""
    if r["runtime"] == "vllm" and r["gpu"].startswith("Jetson"):
        return "vllm-jetson"
    return r["runtime"]


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
    if metric.startswith("ttft") and c > 1:
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
        or (s == "S1" and "enforce-eager" in notes and metric == "tpot_ms")
        # API server per request: one source's concurrency-1 TTFTs (5 prompt lengths x 2 dtypes,
        # one host); the other sources' TTFTs (S1, S2: L4 hosts, older versions) only check it
        or (s == "S16" and metric == "ttft_p95_ms"),
        "sglang": s == "S5",
        "llama.cpp": (s == "S6" and ("6766" in url or "6763" in url)) or "smolhub" in url,
        "mlc-llm": s == "S11" and ("original" in r["power_mode"] or "Super" in r["power_mode"]),
        "hf-transformers": s == "S10",
        # vLLM on Jetson: the Jetson AI Lab table at one request (S11)
        "vllm-jetson": rt == "vllm" and r["gpu"].startswith("Jetson"),
        # TensorRT Edge-LLM: the 0.9.1 benchmark page fits; the 0.4.0 page and issue rows check
        "tensorrt-edge-llm": "0.9.1" in url,
    }.get(runtime_id(r), False)
    return ("fit", "") if fit else ("validate", "")
