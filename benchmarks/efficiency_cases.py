"""Predicted vs published figures for the efficiency claims of the seed papers (issue 20: papers.md
sections 1, 5, 8-11, 13 and the addendum; FFN Fusion, Nemotron 3 Super and Efficient-DLM live in
efficiency_cases_2.py). Run through `python benchmarks/paper_cases.py`.

Every case runs on the paper's device, precision, runtime, lengths and batch policy; where the
paper leaves one open, the assumption is printed next to the figure. Throughput "at max batch" is
the largest batch that fits, capped by the runtime's max running sequences (no engine batches
beyond it). Published figures are tagged as in papers.md ([P] primary, [S] secondary).
"""

from __future__ import annotations

from perfsim import apply_transforms
from perfsim.accuracy.request_level import published_request_rate
from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.request import decode_step, generate
from perfsim.decoding import BlockDiffusion, Speculative
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model, load_runtime
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec
from perfsim.spec.runtime import RuntimeProfile
from perfsim.transforms import FP8_W8A8, WeightDType

GIB = 1 << 30


def _runtime(base: str, **sections: dict) -> RuntimeProfile:
    """A bundled runtime with some fields of its sections changed (what a `base:` YAML does)."""
    data = load_runtime(base).model_dump(exclude_unset=True)  # a full dump would pin every override field
    for section, fields in sections.items():
        data[section] = {**data.get(section, {}), **fields}
    data["id"] = f"{base}-case"
    return RuntimeProfile.model_validate(data)


def _peak(model, hw, prompt: int, output: int, runtime, tp: int = 1):
    """(tokens/s per GPU, batch) at the largest batch that fits, capped by the runtime."""
    peak = max_batch_throughput(load_model(model), load_hardware(hw), prompt, output, runtime=runtime,
                                execution=Execution(tensor_parallel=tp))
    return peak.result.tokens_per_s / tp, peak.batch


def flash_throughput_case(row) -> None:
    print("Nemotron-Flash max-batch throughput, 1x H100, bf16, TensorRT-LLM AutoDeploy with CUDA graphs "
          "(papers.md 1, addendum 1.1)")
    print("  assumed (not published): 128-token prompts + 8,192 generated tokens (the latency table's "
          "setting); 'max batch size' = largest batch that fits, so AutoDeploy's serving default of 8 "
          "sequences is lifted")
    rt = _runtime("trt-autodeploy", cuda_graphs={"enabled": True}, scheduler={"max_num_seqs": 4096})
    runs = {m: _peak(m, "h100-sxm", 128, 8192, rt) for m in
            ("qwen3-0.6b", "qwen3-1.7b", "qwen2.5-3b", "nemotron-flash-1b", "nemotron-flash-3b")}
    for (fast, slow), published in {("nemotron-flash-1b", "qwen3-0.6b"): 45.6,
                                    ("nemotron-flash-3b", "qwen3-1.7b"): 18.7,
                                    ("nemotron-flash-3b", "qwen2.5-3b"): 6.4}.items():
        row(f"{fast} / {slow} throughput [P]", runs[fast][0] / runs[slow][0], published)
    paper = {"qwen3-0.6b": 160, "qwen3-1.7b": 157, "qwen2.5-3b": 459, "nemotron-flash-1b": 7289,
             "nemotron-flash-3b": 2939}
    print("    tok/s (batch): " + ", ".join(f"{m} {tps:,.0f} ({b}; paper {paper[m]:,})"
                                            for m, (tps, b) in runs.items()))


def _a10g_budget():
    """A10G with the Nano 2 report's memory budget: 19.66 GiB for weights, KV, state and
    activations (22.06 GiB usable less a buffer and 1.3 GiB kept for a vision encoder) [S]."""
    hw = load_hardware("a10g")
    memory = hw.memory.model_copy(update={"usable_bytes": 19.66 * GIB, "reserved_runtime_bytes": 0.0})
    return hw.model_copy(update={"memory": memory, "id": "a10g-19.66GiB"})


def nano2_case(row) -> None:
    print("Nemotron-Nano-9B-v2 vs Qwen3-8B, 1x A10G, bf16, vLLM, 8k in / 16k out, largest batch that fits "
          "a 19.66 GiB budget (papers.md 9, addendum 5)")
    hw = _a10g_budget()
    nano, qwen = (_peak(m, hw, 8192, 16384, "vllm") for m in ("nemotron-nano-9b-v2", "qwen3-8b"))
    row(f"output throughput ratio (batch {nano[1]} vs {qwen[1]}) [S]", nano[0] / qwen[0], 6.3)
    print(f"    tok/s: Nano-9B-v2 {nano[0]:.0f}, Qwen3-8B {qwen[0]:.0f} (paper: a NAS candidate of this "
          f"shape 156 tok/s at batch 8 [S])")
    base = load_model("nemotron-nano-9b-v2")
    bf16_state = base.model_copy(update={"dtypes": base.dtypes.model_copy(update={"state": "bf16"})})
    nano16 = _peak(bf16_state, hw, 8192, 16384, "vllm")
    row(f"sensitivity: Mamba state in bf16 (batch {nano16[1]} vs {qwen[1]})", nano16[0] / qwen[0], 6.3)
    print("    (vLLM's mamba_ssm_cache_dtype 'auto' follows the model dtype, from memory of its CacheConfig; "
          "perfsim keeps SSM state in fp32 by default)")


def _best_tp(model, hw, prompt: int, output: int, runtime, degrees=(2, 4, 8)):
    """Best tokens/s per GPU over tensor-parallel degrees (those that fit)."""
    best = None
    for tp in degrees:
        try:
            tps, batch = _peak(model, hw, prompt, output, runtime, tp)
        except PerfsimInputError:
            continue
        best = (tps, batch, tp) if best is None or tps > best[0] else best
    if best is None:
        raise PerfsimInputError(f"{getattr(model, 'id', model)} fits {hw} at no TP in {degrees}")
    return best


def nemotron_h_case(row) -> None:
    print("Nemotron-H-56B vs Qwen-2.5-72B / Llama-3.1-70B, H100, 65,536 in / 1,024 out, max batch, output "
          "tok/s per GPU (papers.md 9, addendum 9)")
    print("  assumed (not published): bf16 for all; each model at its best TP of 2/4/8; the paper ran "
          "Nemotron-H in Megatron-LM and the baselines in vLLM 0.7.3: all priced as vLLM here; the 8K "
          "checkpoint's context limit lifted to 66,560 for the speed measurement")
    base = load_model("nemotron-h-56b")
    nemo = base.model_copy(update={"max_context_len": 65536 + 1024})
    n = _best_tp(nemo, "h100-sxm", 65536, 1024, "vllm")
    for other in ("qwen2.5-72b", "llama-3.1-70b"):
        o = _best_tp(other, "h100-sxm", 65536, 1024, "vllm")
        row(f"56B / {other} per GPU (TP{n[2]} b{n[1]} vs TP{o[2]} b{o[1]}) [P]", n[0] / o[0], 2.4)
    print("    the 'up to 3x' headline is the 47B (MiniPuzzle) at the same setting: 2.9x [P, ADLR page]")


def nano3_case(row) -> None:
    print("Nemotron 3 Nano 30B-A3B vs Qwen3-30B-A3B-Thinking / GPT-OSS-20B, 1x H200, 8k in / 16k out, "
          "vLLM at its default max_num_seqs (addendum 6)")
    print("  assumed (not confirmed): Nano in FP8 W8A8 with FP8 KV (its attention layers are BF16 in the "
          "release: taken FP8 here), Qwen3 in bf16, GPT-OSS-20B fp4 throughout; best of vLLM/TRT-LLM "
          "priced as vLLM")
    nano = apply_transforms("nemotron-3-nano-30b-a3b", FP8_W8A8, id="nemotron-3-nano-fp8")
    gpt = apply_transforms("gpt-oss-20b", [WeightDType("fp4")], id="gpt-oss-20b-fp4")
    runs = {"nano": _peak(nano, "h200-sxm", 8192, 16384, "vllm"),
            "qwen": _peak("qwen3-30b-a3b", "h200-sxm", 8192, 16384, "vllm"),
            "gpt": _peak(gpt, "h200-sxm", 8192, 16384, "vllm")}
    (n, bn), (q, bq), (g, bg) = runs["nano"], runs["qwen"], runs["gpt"]
    row(f"Nano / Qwen3-30B-A3B (batch {bn} vs {bq}) [S]", n / q, 3.3)
    row(f"Nano / GPT-OSS-20B (batch {bn} vs {bg}) [S]", n / g, 3.3 / 1.5)
    print(f"    tok/s: Nano {n:,.0f}, Qwen3-30B-A3B {q:,.0f}, GPT-OSS-20B {g:,.0f}")
    qwen8 = apply_transforms("qwen3-30b-a3b", FP8_W8A8, id="qwen3-30b-a3b-fp8")
    q8, bq8 = _peak(qwen8, "h200-sxm", 8192, 16384, "vllm")
    row(f"sensitivity: Nano / Qwen3-30B-A3B in FP8 + FP8 KV (batch {bq8})", n / q8, 3.3)


def speed_bench_case(row) -> None:
    print("SPEED-Bench qualitative split, 1x B200, batch 32, draft length 3, temperature 0 (addendum 3)")
    print("  assumed (not published): 1,024-token prompts and outputs, vLLM; i.i.d. per-position "
          "acceptance solved from the published acceptance length; Llama-3.3-70B priced as Llama-3.1-70B "
          "(same architecture); gpt-oss-120b fp4 throughout")
    gpt = apply_transforms("gpt-oss-120b", [WeightDType("fp4")], id="gpt-oss-120b-fp4")
    rows = [(gpt, "eagle", 2.25, 1.34, "GPT-OSS-120B EAGLE-3"), (gpt, "mtp", 2.55, 1.45, "GPT-OSS-120B MTP"),
            ("llama-3.1-70b", "eagle", 2.44, 1.90, "Llama-3.3-70B EAGLE-3")]
    for model, draft, accepted, published, label in rows:
        ar = generate(model, "b200", 32, 1024, 1024, runtime="vllm")
        spec = Speculative(k=3, mean_accepted_tokens=accepted, draft=draft)
        sd = generate(model, "b200", 32, 1024, 1024, spec, runtime="vllm")
        row(f"{label} speed-up (AL {accepted}) [S]", ar.e2e_s / sd.e2e_s, published)
    for model, accepted, label in ((gpt, 2.25, "GPT-OSS-120B EAGLE-3"),
                                   ("llama-3.1-70b", 2.44, "Llama-3.3-70B EAGLE-3")):
        alpha = Speculative(k=3, mean_accepted_tokens=accepted)._per_position()[0]
        best = {b: _best_draft_length(model, b, alpha) for b in (1, 8, 32, 64)}
        print(f"    best draft length 1..7, {label} (alpha {alpha:.2f}): "
              + ", ".join(f"batch {b}: k={k}" for b, k in best.items())
              + f"; shrinks with batch: {best[1] >= best[8] >= best[32] >= best[64]} "
              "(paper: falls from batch 1 to 32 [S])")


def _best_draft_length(model, batch: int, alpha: float) -> int:
    ar = generate(model, "b200", batch, 1024, 1024, runtime="vllm").e2e_s
    gains = {k: ar / generate(model, "b200", batch, 1024, 1024, Speculative(k=k, acceptance=alpha),
                              runtime="vllm").e2e_s for k in range(1, 8)}
    return max(gains, key=gains.__getitem__)


def r2_dllm_case(row) -> None:
    print("R2-dLLM step reduction on LLaDA-8B, GSM8K 5-shot, 256 generated tokens, block 32 (addendum 8.1)")
    print("  assumed (not published): 1x H100, bs 1, HF transformers (eager), a ~900-token 5-shot prompt, "
          "block-level KV cache (Fast-dLLM dual cache); 'published' = the step-count ratio 1 / (1 - r), "
          "the speed-up if a step cost the same (no wall-clock figure is published [P])")
    base = BlockDiffusion(block_size=32, sub_block_size=32, steps_per_block=32)
    ref = generate("llada-8b", "h100-sxm", 1, 900, 256, base, runtime="hf-transformers").e2e_s
    for reduction, steps in ((0.75, 8), (0.88, 4)):
        fast = BlockDiffusion(block_size=32, sub_block_size=32, steps_per_block=steps)
        run = generate("llada-8b", "h100-sxm", 1, 900, 256, fast, runtime="hf-transformers").e2e_s
        row(f"{reduction:.0%} fewer steps ({steps} of 32 per block) [P]", ref / run, 1 / (1 - reduction))


def latent_moe_case(row) -> None:
    print("LatentMoE (arXiv 2601.18089): routed-expert cost with tokens projected d=4096 -> l=1024 "
          "(Nemotron 3 Super's MoE: 512 experts top-22, width 2688), 1x B200, bf16, one MoE layer")
    print("  published: bandwidth and all-to-all volume cut by ~d/l = 4x [S]; predicted: the layer's "
          "decode step time in the memory-bound regime (batch 1) and the compute-bound one (batch 4096)")
    moe = {"type": "moe", "num_experts": 512, "top_k": 22, "expert_intermediate_size": 2688,
           "activation": "relu2"}
    specs = {}
    for name, latent in (("standard", None), ("latent", 1024)):
        data = {"id": f"super-moe-{name}", "display_name": name, "source": {"url": "arXiv 2601.18089"},
                "hidden_size": 4096, "vocab_size": 131072, "max_context_len": 8192,
                "operators": {"moe": {**moe, "latent_dim": latent} if latent else moe},
                "blocks": [{"repeat": 1, "ops": ["moe"]}]}
        specs[name] = ModelSpec.model_validate(data)
    for batch in (1, 4096):
        moe_rows = {n: _moe_rows(decode_step(s, "b200", batch, 1024, check_memory=False))
                    for n, s in specs.items()}
        experts = {n: float(r.loc[r.kernel == "experts", "bytes"].sum()) for n, r in moe_rows.items()}
        layer = {n: float(r["time_s"].sum()) for n, r in moe_rows.items()}
        row(f"batch {batch}: routed-expert bytes, standard / latent [S]",
            experts["standard"] / experts["latent"], 4.0)
        row(f"batch {batch}: MoE sublayer time incl. latent projections", layer["standard"] / layer["latent"],
            4.0)


def _moe_rows(step):
    frame = step.breakdown
    return frame[frame.sublayer == "moe"]


def dler_request_level_case(row) -> None:
    print("DLER-R1-7B vs DeepSeek-R1-7B request-level efficiency: each at its published mean trace "
          "length per benchmark (DLER model card [P]), 1x H100, bf16, vLLM, largest batch that fits")
    print("  assumed (not published): 256-token prompts, H100 and vLLM. No serving figure is published, so "
          "these are predictions, printed against the length ratio (the gain at an equal token rate)")
    for benchmark in ("math500", "aime24", "amc", "minerva", "olympiad"):
        r1, dler = (published_request_rate(m, "h100-sxm", benchmark, runtime="vllm")
                    for m in ("deepseek-r1-distill-qwen-7b", "dler-r1-7b"))
        lengths = r1.mean_output_tokens / dler.mean_output_tokens
        rates = dler.tokens_per_s / r1.tokens_per_s
        print(f"    {benchmark}: requests/s DLER / R1 {dler.requests_per_s / r1.requests_per_s:.2f} (length "
              f"ratio {lengths:.2f}: {dler.mean_output_tokens:.0f} vs {r1.mean_output_tokens:.0f} tokens; "
              f"tokens/s ratio {rates:.2f} at batch {dler.batch} vs {r1.batch}); accuracy "
              f"{dler.accuracy:.2f} vs {r1.accuracy:.2f}")


def cases():
    from efficiency_cases_2 import cases as more_cases  # FFN Fusion, Nemotron 3 Super, Efficient-DLM

    return (flash_throughput_case, nano2_case, nemotron_h_case, nano3_case, speed_bench_case, r2_dllm_case,
            latent_moe_case, dler_request_level_case, *more_cases())
