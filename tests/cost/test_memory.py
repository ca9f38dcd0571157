import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq, state_bytes_per_seq


def test_llama31_8b_kv_is_128_kib_per_token(llama8b):
    """2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 B (hardware.md S45b)."""
    assert kv_bytes_per_seq(llama8b, 1) == 131072


def test_sliding_window_kv_is_capped():
    model = perfsim.load_model("gpt-oss-120b")
    full_layers = sum(1 for s in model.sublayers if s.type == "attention" and s.window is None)
    swa_layers = sum(1 for s in model.sublayers if s.type == "attention" and s.window)
    per_layer = 2 * 8 * 64 * 2
    assert kv_bytes_per_seq(model, 100000) == per_layer * (full_layers * 100000 + swa_layers * 128)


def test_nemotron_nano_state_matches_hand_count():
    """papers.md section 9: 27 Mamba2 layers x (128 x 80 x 128 fp32 state + conv state)."""
    model = perfsim.load_model("nemotron-nano-9b-v2")
    per_layer = 128 * 80 * 128 * 4 + (128 * 80 + 2 * 8 * 128) * 3 * 2
    assert state_bytes_per_seq(model) == 27 * per_layer
    assert kv_bytes_per_seq(model, 1) == 4 * 2 * 8 * 128 * 2  # 16 KB/token


@settings(max_examples=60, deadline=None)
@given(batch=st.integers(1, 512), ctx=st.integers(1, 40000))
def test_kv_and_state_are_exact_linear_functions(batch, ctx):
    model = perfsim.load_model("nemotron-h-8b") if ctx <= 8192 else perfsim.load_model("qwen3-8b")
    hw = perfsim.load_hardware("h200-sxm")
    report = perfsim.memory(model, hw, batch, ctx)
    assert report.kv_cache_bytes == batch * kv_bytes_per_seq(model, ctx)
    assert report.state_bytes == batch * state_bytes_per_seq(model)


def test_llama2_7b_batch64_context2048_does_not_fit_on_h100():
    report = perfsim.memory("llama-2-7b", "h100-sxm", 64, 2048, runtime=None)  # whole-prompt prefill
    assert not report.fits
    assert report.shortfall_bytes > 5e9
    assert report.kv_cache_bytes == pytest.approx(64 * 2048 * 524288)
    message = report.explain("llama-2-7b", "h100-sxm", 64, 2048)
    assert "does not fit, short by" in message and "max batch at this context is" in message


def test_max_batch_is_the_exact_boundary(h100):
    report = perfsim.memory("qwen3-8b", h100, 1, 8192)
    assert perfsim.memory("qwen3-8b", h100, report.max_batch, 8192).fits
    assert not perfsim.memory("qwen3-8b", h100, report.max_batch + 1, 8192).fits


def test_hybrid_fits_far_more_sequences_than_transformer():
    """Nano-9B-v2 keeps 4 attention layers: many more 24k-token sequences fit (papers.md 9)."""
    hw = perfsim.load_hardware("h100-sxm")
    hybrid = perfsim.memory("nemotron-nano-9b-v2", hw, 1, 24576, prefill_chunk_tokens=8192).max_batch
    dense = perfsim.memory("qwen3-8b", hw, 1, 24576, prefill_chunk_tokens=8192).max_batch
    assert hybrid > 4 * dense


def test_model_too_big_for_device_reports_zero_batch():
    report = perfsim.memory("qwen3-32b", "jetson-orin-nano-8gb", 1, 1024)
    assert not report.fits and report.max_batch == 0


def test_invalid_memory_arguments():
    with pytest.raises(perfsim.PerfsimInputError, match="batch must be an integer from 1 to"):
        perfsim.memory("qwen3-8b", "h100-sxm", 0, 10)
    with pytest.raises(perfsim.PerfsimInputError, match="exceeds max_context_len 40960"):
        perfsim.memory("qwen3-8b", "h100-sxm", 1, 10**6)


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(["llama-3.1-8b", "gpt-oss-20b", "nemotron-h-8b", "qwen3-30b-a3b"]),
       context=st.integers(1, 131072), chunk=st.sampled_from([None, 512, 8192]))
def test_footprint_max_batch_is_the_largest_fitting_batch(model, context, chunk):
    """The closed form is the exact boundary of fits(), whole-batch or chunked prefill."""
    from perfsim.cost.memory import Footprint

    foot = Footprint.of(perfsim.load_model(model), perfsim.load_hardware("h100-sxm"))
    best = int(foot.max_batch(context, chunk))
    if best == 0:
        assert not foot.fits(1, context, chunk)
    else:
        assert foot.fits(best, context, chunk) and not foot.fits(best + 1, context, chunk)


def test_one_footprint_behind_report_batch_evaluator_and_kv_pool(h100):
    """memory(), evaluate_workloads and the serving KV pool total the same Footprint."""
    from perfsim.cost.batch import evaluate_workloads
    from perfsim.cost.memory import PREFILL_CHUNK_TOKENS, Footprint
    from perfsim.sim.kvcache import KVCache

    model = perfsim.load_model("gpt-oss-20b")
    foot = Footprint.of(model, h100)
    report = perfsim.memory(model, h100, 16, 4096, runtime=None)
    assert report.total_bytes == foot.total_bytes(16, 4096, 16 * 4096)
    cols = evaluate_workloads(model, h100, 16, 2048, 2048, runtime=None)
    assert cols["memory_bytes"][0] == report.total_bytes
    chunked = perfsim.memory(model, h100, 1, 4096, prefill_chunk_tokens=PREFILL_CHUNK_TOKENS)
    assert cols["max_batch"][0] == chunked.max_batch == foot.max_batch(4096, PREFILL_CHUNK_TOKENS)
    pool = KVCache(model, h100, block_size=16, gpu_memory_utilization=1.0, max_batched_tokens=8192,
                   max_seqs=256)
    assert pool.pool_bytes == h100.memory.usable_bytes - foot.total_bytes(0, 0, 8192, logit_rows=256)


def test_expert_parallel_weights_per_gpu_equal_tensor_parallel_ones():
    """num_experts / EP whole experts sliced TP / EP ways = every expert sliced TP ways: the bytes
    each GPU reads for the experts of a prefill that touches them all are the same under EP."""
    from perfsim.cost.graph import StepBatch, build_step
    from perfsim.spec.deployment import Execution

    model = perfsim.load_model("qwen3-30b-a3b")

    def expert_weight_elements(**execution):
        groups = build_step(model, StepBatch(prefill_seqs=1, prefill_tokens=1 << 16), Execution(**execution))
        up = next(k.op for g in groups for k in g.kernels if k.name == "experts").sub_ops()[3]
        return float(up.groups * up.n * up.k)

    sliced = expert_weight_elements(tensor_parallel=8)
    for ep in (2, 4, 8):
        placed = expert_weight_elements(tensor_parallel=8, expert_parallel=ep)
        assert placed == pytest.approx(sliced, rel=1e-6)
