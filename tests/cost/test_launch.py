"""The CUDA-graph capture limit (perfsim.cost.launch.LaunchModel.graphed): a step bigger than the
runtime's largest capture size, in the unit it compares, is priced as launched without graphs at
the runtime's per-kernel host cost; every path (scalar tables, arrays, the reference, the serving
tables) decides it the same way."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.graph import StepBatch
from perfsim.cost.launch import LaunchModel
from perfsim.cost.step import evaluate_step, evaluate_step_reference, step_latency
from perfsim.decoding import make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.sim.costs import IterationCosts
from perfsim.spec.deployment import Execution

MODEL, HW = perfsim.load_model("qwen3-0.6b"), perfsim.load_hardware("h100-sxm")
LIMITED = Execution(cuda_graph_max_size=64, host_per_kernel_s=80e-6, host_per_kernel_ungraphed_s=20e-6)


def _graphed(execution: Execution) -> Execution:
    """The same deployment with every step replaying the graphs."""
    return replace(execution, cuda_graph_max_size=None)


def _pipelined_s(result) -> float:
    """A step without graphs: the pipeline limit of host enqueue and device work (no host per step)."""
    return max(result.gpu_time_s, LIMITED.host_per_kernel_ungraphed_s * result.kernels)


@pytest.mark.parametrize("decode_tokens", [1, 4])
def test_steps_above_the_limit_in_tokens_pay_the_ungraphed_kernel_cost(decode_tokens):
    for seqs in (1, 64 // decode_tokens, 64 // decode_tokens + 1, 200):
        step = StepBatch(decode_seqs=seqs, decode_context=512, decode_tokens=decode_tokens)
        got = evaluate_step(MODEL, HW, step, LIMITED)
        graphed = evaluate_step(MODEL, HW, step, _graphed(LIMITED))
        want = graphed.latency_s if step.tokens <= 64 else _pipelined_s(got)
        assert got.latency_s == pytest.approx(want, rel=1e-12)
        assert got.gpu_time_s == pytest.approx(graphed.gpu_time_s, rel=1e-12)
    # the verify step of 17 sequences x 4 tokens (68 > 64) leaves the graphs; 16 x 4 does not
    slow = evaluate_step(MODEL, HW, StepBatch(decode_seqs=17, decode_context=512, decode_tokens=4), LIMITED)
    fast = evaluate_step(MODEL, HW, StepBatch(decode_seqs=16, decode_context=512, decode_tokens=4), LIMITED)
    assert slow.latency_s - slow.gpu_time_s > fast.latency_s - fast.gpu_time_s


def test_the_pipeline_limit_is_the_launch_recurrence_up_to_about_one_layer():
    """Eagerly the host enqueues kernel i at i x its per-kernel cost and the device starts it once
    both it and the previous kernel are done; that recurrence is at least the pipeline limit and,
    the layers repeating, exceeds it by about one layer's imbalance at most."""
    eager = replace(LIMITED, cuda_graphs=False, cuda_graph_max_size=None, host_per_kernel_s=20e-6)
    for seqs, past, new in ((1, 0, 0), (40, 512, 100), (4, 4096, 100), (0, 0, 300)):
        step = StepBatch(decode_seqs=seqs, decode_context=past, prefill_seqs=int(new > 0), prefill_tokens=new)
        pipelined = evaluate_step(MODEL, HW, step, replace(LIMITED, cuda_graph_max_size=0)).latency_s
        recurrence = evaluate_step(MODEL, HW, step, eager).latency_s
        assert pipelined <= recurrence * (1 + 1e-12)
        assert recurrence <= pipelined * (1 + 2 / MODEL.num_mixer_layers)


def test_a_limit_in_sequences_counts_verify_steps_by_sequence():
    seqs_unit = replace(LIMITED, cuda_graph_unit="seqs")
    step = StepBatch(decode_seqs=20, decode_context=512, decode_tokens=4)  # 80 tokens, 20 sequences
    assert LaunchModel.of(HW, seqs_unit).graphed(step) and not LaunchModel.of(HW, LIMITED).graphed(step)
    assert evaluate_step(MODEL, HW, step, seqs_unit).latency_s == pytest.approx(
        evaluate_step(MODEL, HW, step, _graphed(LIMITED)).latency_s, rel=1e-12
    )


def test_decode_only_graphs_leave_every_prefill_step_ungraphed():
    decode_only = replace(LIMITED, cuda_graph_prefill=False)
    prefill = StepBatch(prefill_seqs=1, prefill_tokens=8)
    launch = LaunchModel.of(HW, decode_only)
    assert not launch.graphed(prefill) and launch.graphed(StepBatch(decode_seqs=8, decode_context=64))
    got = evaluate_step(MODEL, HW, prefill, decode_only)
    assert got.latency_s == pytest.approx(_pipelined_s(got), rel=1e-12)


def test_without_graphs_the_eager_cost_stays_and_no_limit_keeps_every_step_graphed():
    eager = replace(LIMITED, cuda_graphs=False)
    step = StepBatch(decode_seqs=200, decode_context=512)
    assert LaunchModel.of(HW, eager).at(step).host_per_kernel_s == 80e-6
    assert LaunchModel.of(HW, Execution()).graphed(step) is True


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 150), min_size=2, max_size=6), st.sampled_from([1, 3]))
def test_array_shapes_straddling_the_limit_match_each_scalar_step(seqs, decode_tokens):
    steps = StepBatch(
        decode_seqs=np.asarray(seqs, dtype=float), decode_context=300.0, decode_tokens=decode_tokens
    )
    arrays = step_latency(MODEL, HW, steps, LIMITED)
    for i, b in enumerate(seqs):
        one = StepBatch(decode_seqs=b, decode_context=300, decode_tokens=decode_tokens)
        reference = evaluate_step_reference(MODEL, HW, one, LIMITED).latency_s
        assert arrays[i] == pytest.approx(reference, rel=1e-9)


def test_a_bad_limit_is_one_sentence():
    for bad in (-1, 2.5, True):
        with pytest.raises(PerfsimInputError, match=r"^Execution\.cuda_graph_max_size must be .*\.$"):
            Execution(cuda_graph_max_size=bad)
    with pytest.raises(PerfsimInputError, match="cuda_graph_unit must be 'tokens' or 'seqs'"):
        Execution(cuda_graph_unit="requests")


def test_serving_tables_follow_the_limit_for_mixed_iterations():
    costs = IterationCosts(
        MODEL, HW, make_decoding(None), LIMITED, max_seqs=96, max_tokens=256, max_context=4096
    )
    for batch, chunk in ((10, 20), (10, 60), (0, 100), (80, 8)):
        step = StepBatch(decode_seqs=batch, decode_context=1000.0, prefill_seqs=1, prefill_tokens=chunk)
        exact = float(step_latency(MODEL, HW, step, LIMITED))
        got = costs.mixed(batch, 1000.0, [(chunk, 0)])
        # graphed or not, the tables compose what the predictor does (to the context interpolation)
        assert got == pytest.approx(exact, rel=1e-6)
    # 80 > 64 tokens: without graphs as well (max(device, enqueue) interpolated over the context grid)
    row = StepBatch(decode_seqs=80, decode_context=1000.0)
    assert costs.decode(80, 1000.0) == pytest.approx(float(step_latency(MODEL, HW, row, LIMITED)), rel=0.01)
    assert costs.decode(80, 1000.0) > float(step_latency(MODEL, HW, row, _graphed(LIMITED)))


def test_vllm_states_its_limit_in_tokens_and_sglang_in_decode_sequences():
    h100, b200 = perfsim.load_hardware("h100-sxm"), perfsim.load_hardware("b200")
    vllm, sglang = perfsim.load_runtime("vllm"), perfsim.load_runtime("sglang")
    limits = Execution.of(vllm, h100).cuda_graph_max_size, Execution.of(vllm, b200).cuda_graph_max_size
    assert limits == (512, 512)  # the 0.20 line; 1024 on SM100 came later (vllm#49390)
    assert Execution.of(vllm, h100).cuda_graph_unit == "tokens"
    on_h100 = Execution.of(sglang, h100)
    assert (on_h100.cuda_graph_unit, on_h100.cuda_graph_max_size) == ("seqs", 256)
    assert not on_h100.cuda_graph_prefill
