import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.graph import StepBatch
from perfsim.spec.deployment import Execution

MODELS = ["llama-3.1-8b", "nemotron-h-8b", "qwen3-30b-a3b", "gpt-oss-20b", "nemotron-flash-3b"]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(MODELS), batch=st.integers(1, 256), ctx=st.integers(1, 8000),
       more=st.integers(1, 2000))
def test_decode_latency_non_decreasing_in_batch_and_context(name, batch, ctx, more):
    model, hw = perfsim.load_model(name), perfsim.load_hardware("h100-sxm")
    base = perfsim.step_latency(model, hw, StepBatch(decode_seqs=batch, decode_context=ctx))
    wider = perfsim.step_latency(model, hw, StepBatch(decode_seqs=batch + more, decode_context=ctx))
    longer = perfsim.step_latency(model, hw, StepBatch(decode_seqs=batch, decode_context=ctx + more))
    assert wider >= base * (1 - 1e-12) and longer >= base * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(extra_layers=st.integers(1, 16), batch=st.integers(1, 64), prompt=st.integers(1, 4096))
def test_latency_non_decreasing_in_depth(llama8b, h100, extra_layers, batch, prompt):
    data = llama8b.model_dump()
    data["blocks"] = [{"repeat": 32 + extra_layers, "ops": ["attn", "mlp"]}]
    deeper = perfsim.ModelSpec.model_validate(data)
    for step in (StepBatch(decode_seqs=batch, decode_context=prompt),
                 StepBatch(prefill_seqs=batch, prefill_tokens=prompt)):
        assert perfsim.step_latency(deeper, h100, step) > perfsim.step_latency(llama8b, h100, step)


def test_batch1_decode_of_dense_8b_is_bandwidth_bound(h100):
    for name in ("llama-3.1-8b", "qwen3-8b"):
        step = perfsim.decode_step(name, h100, 1, 2048)
        frame = step.breakdown
        memory_share = frame.loc[frame["bound"] == "memory", "time_s"].sum() / frame["time_s"].sum()
        assert memory_share > 0.8
        floor = step.bytes / h100.memory.peak_bw_bytes_per_s
        assert floor < step.latency_s < 1.6 * floor  # within the 70-85 % MBU rule of thumb band


def test_deep_thin_is_slower_than_shallow_wide_at_batch1(h100):
    """Same parameters, 4x the layers at half the width: per-kernel fixed costs add up
    (Nemotron-Flash, papers.md section 1)."""
    base = perfsim.load_model("llama-3.1-8b").model_dump()
    wide = {**base, "id": "wide", "hidden_size": 4096,
            "operators": {"attn": {"type": "attention", "num_heads": 32, "num_kv_heads": 8, "head_dim": 128},
                          "mlp": {"type": "mlp", "intermediate_size": 14336}},
            "blocks": [{"repeat": 8, "ops": ["attn", "mlp"]}]}
    thin = {**wide, "id": "thin", "hidden_size": 2048,
            "operators": {"attn": {"type": "attention", "num_heads": 16, "num_kv_heads": 4, "head_dim": 128},
                          "mlp": {"type": "mlp", "intermediate_size": 7168}},
            "blocks": [{"repeat": 32, "ops": ["attn", "mlp"]}]}
    wide, thin = perfsim.ModelSpec.model_validate(wide), perfsim.ModelSpec.model_validate(thin)
    p_wide, p_thin = perfsim.model_params(wide).total, perfsim.model_params(thin).total
    assert p_thin < p_wide  # thinner has fewer parameters yet is slower
    t_wide = perfsim.decode_step(wide, h100, 1, 1024).latency_s
    t_thin = perfsim.decode_step(thin, h100, 1, 1024).latency_s
    assert t_thin > t_wide


def test_eager_launches_cost_more_than_cuda_graphs_for_small_models(h100):
    graphs = perfsim.decode_step("qwen3-0.6b", h100, 1, 1024)
    eager = perfsim.decode_step("qwen3-0.6b", h100, 1, 1024,
                                execution=Execution(cuda_graphs=False, host_per_kernel_s=20e-6))
    assert eager.latency_s > 1.5 * graphs.latency_s
    assert eager.latency_s >= eager.kernels * 20e-6


def test_tensor_parallel_speeds_up_decode_but_adds_allreduce(h100):
    one = perfsim.decode_step("qwen3-32b", h100, 8, 4096)
    four = perfsim.decode_step("qwen3-32b", h100, 8, 4096, execution=Execution(tensor_parallel=4))
    assert four.latency_s < one.latency_s / 2
    assert "allreduce" in set(four.breakdown["kernel"]) and "allreduce" not in set(one.breakdown["kernel"])


def test_fp8_activations_leave_the_residual_stream_and_allreduce_in_bf16(h100):
    """W8A8 quantises GEMM inputs only: an FP8 model's all-reduce moves the bf16 model's bytes, and
    its GEMMs get cheaper."""
    from perfsim.io.load import apply_transforms
    from perfsim.transforms import ActivationDType, WeightDType

    fp8 = apply_transforms("llama-3.1-70b", [WeightDType("fp8"), ActivationDType("fp8")])
    tp = Execution(tensor_parallel=4)
    steps = {name: perfsim.prefill(m, h100, 1, 4096, execution=tp, runtime=None)
             .breakdown.groupby("kernel").time_s.sum()
             for name, m in (("bf16", "llama-3.1-70b"), ("fp8", fp8))}
    assert steps["fp8"]["allreduce"] == pytest.approx(steps["bf16"]["allreduce"])
    assert steps["fp8"]["up_proj"] < 0.7 * steps["bf16"]["up_proj"]


def test_tensor_parallel_must_divide_heads(h100):
    with pytest.raises(perfsim.PerfsimInputError, match="must divide num_heads"):
        perfsim.decode_step("llama-3.1-8b", h100, 1, 128, execution=Execution(tensor_parallel=3))


def test_breakdown_sums_to_gpu_time(h100):
    step = perfsim.prefill("nemotron-3-nano-30b-a3b", "h200-sxm", 2, 4096)
    assert step.breakdown["time_s"].sum() == pytest.approx(step.gpu_time_s)
    assert {"mamba2", "moe", "attention", "gemm"} <= set(step.breakdown["family"])


def test_mixed_batch_costs_less_than_separate_steps(h100, llama8b):
    mixed = StepBatch(decode_seqs=32, decode_context=2048, prefill_seqs=1, prefill_tokens=512)
    t_mixed = perfsim.step_latency(llama8b, h100, mixed)
    t_sep = (perfsim.step_latency(llama8b, h100, StepBatch(decode_seqs=32, decode_context=2048))
             + perfsim.step_latency(llama8b, h100, StepBatch(prefill_seqs=1, prefill_tokens=512)))
    assert t_mixed < t_sep


def test_vectorised_grid_matches_scalar_calls(h100):
    grid = perfsim.evaluate_grid(["qwen3-8b", "gpt-oss-20b"], ["h100-sxm", "a10g"], [1, 16], [512, 4096],
                                 runtime=None)
    assert len(grid) == 2 * 2 * 2 * 2
    for row in grid.sample(6, random_state=0).itertuples():
        model, hw = perfsim.load_model(row.model), perfsim.load_hardware(row.hardware)
        step = StepBatch(decode_seqs=row.batch, decode_context=row.context_len)
        scalar = perfsim.evaluate_step(model, hw, step)
        assert row.latency_s == pytest.approx(scalar.latency_s, rel=1e-9)


@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_vectorised_grid_memory_matches_the_memory_report(phase):
    """Fit in a sweep and fit in `perfsim.cost.memory` agree, activations and logits included."""
    grid = perfsim.evaluate_grid(["qwen3-8b", "gpt-oss-20b"], ["h100-sxm", "a10g"], [1, 64, 256],
                                 [1280, 8192, 32768], phase=phase)
    assert grid.fits.any() and not grid.fits.all()
    for row in grid.itertuples():
        chunk = row.batch if phase == "decode" else None
        report = perfsim.memory(row.model, row.hardware, row.batch, row.context_len,
                                prefill_chunk_tokens=chunk)
        assert row.memory_bytes == pytest.approx(report.total_bytes, rel=1e-9)
        assert row.fits == report.fits


def test_generate_composes_ttft_and_tpot(h100):
    result = perfsim.generate("qwen3-8b", h100, 4, 1000, 300)
    assert result.e2e_s == pytest.approx(result.ttft_s + 299 * result.tpot_s)
    assert result.tokens_per_s == pytest.approx(4 * 300 / result.e2e_s)
    first = perfsim.decode_step("qwen3-8b", h100, 4, 1000).latency_s
    last = perfsim.decode_step("qwen3-8b", h100, 4, 1298).latency_s
    assert first <= result.tpot_s <= last


def test_generate_rejects_oversized_config_with_numbers():
    with pytest.raises(perfsim.PerfsimInputError, match=r"does not fit, short by [\d.]+ GB"):
        perfsim.generate("llama-2-7b", "h100-sxm", 64, 1024, 1024, runtime=None)
    unchecked = perfsim.generate("llama-2-7b", "h100-sxm", 64, 1024, 1024, check_memory=False, runtime=None)
    assert not unchecked.memory.fits and np.isfinite(unchecked.e2e_s)


def test_launch_model_composes_whole_steps_and_kernels_priced_apart():
    """One composer: graph steps are launch + device time; a kernel priced apart (the serving cost
    tables) costs its device time, or eagerly at least its host enqueue time."""
    from perfsim.cost.graph import build_step, sublayer_sequence
    from perfsim.cost.step import LaunchModel, timed_kernels

    model, hw = perfsim.load_model("llama-3.1-8b"), perfsim.load_hardware("h100-sxm")
    step = StepBatch(decode_seqs=8, decode_context=1024)
    timed = timed_kernels(build_step(model, step, Execution()), hw)
    graphs = LaunchModel.of(hw, Execution(host_overhead_per_step_s=1e-3))
    wall, device = graphs.step_s(timed, sublayer_sequence(model))
    assert wall == pytest.approx(hw.efficiency_in_use.launch.graph_launch_s + device + 1e-3)
    predicted = perfsim.step_latency(model, hw, step, Execution(host_overhead_per_step_s=1e-3))
    assert wall == pytest.approx(predicted)
    eager = LaunchModel.of(hw, Execution(cuda_graphs=False, host_per_kernel_s=1e-5))
    assert eager.kernel_s(np.array([0.0, 1e-6, 1e-4]), np.array([1, 2, 1])).tolist() == [0.0, 2e-5, 1e-4]
    assert graphs.kernel_s(1e-6, 1) == 1e-6
