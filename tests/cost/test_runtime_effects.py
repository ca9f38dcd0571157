"""The same model and device under different runtimes: each runtime effect in the expected
direction; vLLM is the default and runtime=None (or "none") is kernel physics alone."""

import numpy as np
import pytest

import perfsim
from perfsim.cost.batch import evaluate_workloads
from perfsim.errors import PerfsimInputError
from perfsim.sim import Batch, EngineConfig, simulate_serving
from perfsim.spec.runtime import RuntimeProfile


def runtime(id="test-rt", **data) -> RuntimeProfile:
    return RuntimeProfile.model_validate({"id": id, "display_name": id, "version": "1",
                                          "source": {"url": "https://example.org"}, **data})


VLLM = runtime("vllm", devices={"hopper": {"kernels": {"attention_prefill": "fa3",
                                                       "attention_decode": "fa3"}}})
#: Eager PyTorch dispatch spends tens of microseconds per kernel on the host (the runtime YAMLs carry
#: the sourced figure); the profile's raw launch cost alone hides behind the kernels.
EAGER = runtime("eager", cuda_graphs={"enabled": False},
                host={"per_kernel_eager": {"value_s": 30e-6, "source": "test"}})
PER_SEQ = runtime("per-seq", host={"per_seq_per_step": {"value_s": 5e-5, "source": "test"}})


def test_the_default_runtime_is_vllm_and_none_is_kernel_physics_alone():
    args = ("qwen3-8b", "h100-sxm", 4, 2048, 64)
    default = perfsim.generate(*args)
    assert default.to_dict() == perfsim.generate(*args, runtime="vllm").to_dict()
    bare = perfsim.generate(*args, runtime=None)
    assert bare.to_dict() == perfsim.generate(*args, runtime="none").to_dict()
    assert bare.tpot_s < default.tpot_s  # vLLM's host work per step is on top of the kernels
    plain = perfsim.memory("qwen3-8b", "a10g", 1, 4096, runtime=None)
    assert plain.assumed is None and "vllm" in perfsim.memory("qwen3-8b", "a10g", 1, 4096).assumed
    m, hw = perfsim.load_model("qwen3-8b"), perfsim.load_hardware("h100-sxm")
    a = evaluate_workloads(m, hw, [1, 8], 1024, 128, runtime="vllm")
    b = evaluate_workloads(m, hw, [1, 8], 1024, 128)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_eager_is_slower_than_cuda_graphs_at_batch_one():
    graphs = perfsim.decode_step("qwen3-0.6b", "h100-sxm", 1, 1024, runtime=runtime("graphs"))
    eager = perfsim.decode_step("qwen3-0.6b", "h100-sxm", 1, 1024, runtime=EAGER)
    assert eager.latency_s > 1.2 * graphs.latency_s


def test_fa3_is_faster_than_fa2_on_a_long_h100_prefill():
    fa2 = perfsim.prefill("qwen3-8b", "h100-sxm", 1, 32768, runtime=runtime("fa2-rt", scheduler={
        "chunked_prefill": False}))
    fa3 = perfsim.prefill("qwen3-8b", "h100-sxm", 1, 32768, runtime=runtime("fa3-rt", scheduler={
        "chunked_prefill": False}, kernels={"attention_prefill": "fa3"}))
    attn = fa2.breakdown.kernel == "attn_prefill"
    assert fa3.latency_s < 0.85 * fa2.latency_s
    assert float(fa3.breakdown[attn].time_s.sum()) < 0.7 * float(fa2.breakdown[attn].time_s.sum())


def test_per_sequence_host_cost_grows_with_batch():
    extra = [perfsim.decode_step("qwen3-0.6b", "h100-sxm", b, 512, runtime=PER_SEQ).latency_s
             - perfsim.decode_step("qwen3-0.6b", "h100-sxm", b, 512, runtime=None).latency_s
             for b in (1, 8, 64)]
    assert extra == pytest.approx([5e-5, 8 * 5e-5, 64 * 5e-5], rel=1e-6)


def test_nemotron_nano_at_128k_fits_on_a10g_under_vllm_and_says_its_chunk():
    with pytest.raises(PerfsimInputError, match="does not fit"):  # whole-prompt prefill: too big
        perfsim.generate("nemotron-nano-9b-v2", "a10g", 1, 130816, 256, runtime=None)
    assert perfsim.generate("nemotron-nano-9b-v2", "a10g", 1, 130816, 256).memory.fits  # vLLM default
    result = perfsim.generate("nemotron-nano-9b-v2", "a10g", 1, 130816, 256, runtime=VLLM)
    assert result.memory.fits
    sentence = result.memory.explain("nemotron-nano-9b-v2", "a10g", 1, 131072)
    assert "chunks of 2048 tokens" in sentence and "vllm" in sentence
    report = perfsim.memory("nemotron-nano-9b-v2", "a10g", 1, 131072, runtime=VLLM)
    assert report.fits and "2048" in report.explain("m", "a10g", 1, 131072)
    budget = runtime("budget", scheduler={"max_batched_tokens": 512})
    assert "chunks of 512 tokens" in perfsim.memory("qwen3-8b", "a10g", 1, 8192, runtime=budget).assumed


def test_chunked_prefill_sums_its_chunks():
    whole = perfsim.prefill("qwen3-0.6b", "a10g", 1, 8192, runtime=runtime("whole", scheduler={
        "chunked_prefill": False}))
    chunked = perfsim.prefill("qwen3-0.6b", "a10g", 1, 8192, runtime=runtime("chunks", scheduler={
        "max_batched_tokens": 2048}))
    assert chunked.tokens == whole.tokens == 8192
    assert chunked.flops == pytest.approx(whole.flops, rel=0.02)  # causal work is the same up to tiles
    assert chunked.latency_s > whole.latency_s  # four forwards, each re-reading the weights


def test_guaranteed_no_evict_never_preempts_under_overload():
    workload = Batch(np.full(200, 1024), np.full(200, 2048))
    vllm = simulate_serving("qwen3-0.6b", "a10g", workload, runtime=runtime(
        "vllm", scheduler={"gpu_memory_utilization": 0.2}))
    trt = simulate_serving("qwen3-0.6b", "a10g", workload, runtime=runtime(
        "tensorrt-llm", scheduler={"policy": "guaranteed_no_evict", "kv_cache_free_fraction": 0.05,
                                   "max_num_seqs": 256}))
    assert int(vllm.requests.preemptions.sum()) > 0  # the same overload makes vLLM preempt
    assert int(trt.requests.preemptions.sum()) == 0
    assert trt.meta["runtime"] == "tensorrt-llm"


def test_user_engine_fields_win_over_the_runtime_scheduler():
    workload = Batch(np.full(8, 256), np.full(8, 16))
    rt = runtime("rt", scheduler={"max_num_seqs": 4, "max_batched_tokens": 1024})
    ran = simulate_serving("qwen3-0.6b", "a10g", workload, EngineConfig(max_num_seqs=2), runtime=rt)
    assert ran.meta["max_num_seqs"] == 2 and ran.meta["max_batched_tokens"] == 1024
    assert simulate_serving("qwen3-0.6b", "a10g", workload).meta == simulate_serving(
        "qwen3-0.6b", "a10g", workload, runtime="vllm").meta
