"""The seed papers' efficiency figures that perfsim reproduces within 25 % (benchmarks/efficiency_cases.py
prints all of them with their assumptions): a regression guard on the mechanism behind each."""

import csv

import pytest

from perfsim import apply_transforms
from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.request import decode_step, generate
from perfsim.decoding import BlockDiffusion, Speculative
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec
from perfsim.transforms import WeightDType

TOLERANCE = 0.25


@pytest.fixture(scope="module")
def published(data_file):
    with open(data_file("efficiency_published.csv"), newline="") as fh:
        return {row["case"]: float(row["published"]) for row in csv.DictReader(fh)}


def _per_gpu(model, prompt, output, tp):
    peak = max_batch_throughput(model, load_hardware("h100-sxm"), prompt, output, runtime="vllm",
                                execution=Execution(tensor_parallel=tp))
    return peak.result.tokens_per_s / tp


@pytest.mark.parametrize("other", ["qwen2.5-72b", "llama-3.1-70b"])
def test_nemotron_h_long_context_throughput(published, other):
    nemo = load_model("nemotron-h-56b").model_copy(update={"max_context_len": 65536 + 1024})
    ratio = _per_gpu(nemo, 65536, 1024, 4) / _per_gpu(load_model(other), 65536, 1024, 4)
    key = "qwen2.5_72b" if other.startswith("qwen") else "llama_3.1_70b"
    assert ratio == pytest.approx(published[f"nemotron_h_56b_vs_{key}_65k_1k"], rel=TOLERANCE)


@pytest.mark.parametrize(("model", "accepted", "case"), [
    ("llama-3.1-70b", 2.44, "speed_bench_llama70b_eagle3_b32_k3"),
    ("gpt-oss-120b", 2.25, "speed_bench_gptoss120b_eagle3_b32_k3"),
])
def test_speed_bench_batch32_speedups(published, model, accepted, case):
    if model.startswith("gpt-oss"):
        model = apply_transforms(model, [WeightDType("fp4")], id="gpt-oss-120b-fp4")
    ar = generate(model, "b200", 32, 1024, 1024, runtime="vllm").e2e_s
    spec = Speculative(k=3, mean_accepted_tokens=accepted)
    sd = generate(model, "b200", 32, 1024, 1024, spec, runtime="vllm")
    assert ar / sd.e2e_s == pytest.approx(published[case], rel=TOLERANCE)


def test_r2_dllm_step_reduction_turns_into_speed(published):
    def e2e(steps):
        return generate("llada-8b", "h100-sxm", 1, 900, 256,
                        BlockDiffusion(block_size=32, sub_block_size=32, steps_per_block=steps),
                        runtime="hf-transformers").e2e_s

    speedup = e2e(32) / e2e(8)
    assert speedup == pytest.approx(published["r2_dllm_75pct_fewer_steps"], rel=TOLERANCE)
    # fixed per-step costs keep it below the step ratio
    assert speedup < published["r2_dllm_75pct_fewer_steps"]


def test_latent_moe_cuts_expert_bytes_by_d_over_l(published):
    moe = {"type": "moe", "num_experts": 512, "top_k": 22, "expert_intermediate_size": 2688,
           "activation": "relu2"}
    expert_bytes = {}
    for latent in (None, 1024):
        spec = ModelSpec.model_validate({
            "id": f"moe-{latent}", "display_name": "moe", "source": {"url": "arXiv 2601.18089"},
            "hidden_size": 4096, "vocab_size": 131072, "max_context_len": 8192,
            "blocks": [{"repeat": 1, "ops": ["moe"]}],
            "operators": {"moe": {**moe, "latent_dim": latent} if latent else moe}})
        frame = decode_step(spec, "b200", 1, 1024, check_memory=False).breakdown
        expert_bytes[latent] = float(frame.loc[frame.kernel == "experts", "bytes"].sum())
    assert expert_bytes[None] / expert_bytes[1024] == pytest.approx(published["latent_moe_expert_bytes"],
                                                                    rel=0.01)
