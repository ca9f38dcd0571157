"""Expert-parallel pricing of the routed-experts op: the busiest rank's copies and experts, the
explicit load imbalance, and EP=1 as the tensor-parallel op it always was."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.ops import Gemm, MoE, experts_touched, kernel_time
from perfsim.ops.moe import busiest_rank

RANKS = st.sampled_from([2, 4, 8, 16, 32])


@settings(max_examples=200, deadline=None)
@given(tokens=st.integers(0, 200_000), ranks=RANKS, data=st.data())
def test_busiest_rank_lies_between_the_mean_and_everything_it_can_hold(tokens, ranks, data):
    experts = ranks * data.draw(st.integers(1, 32))
    k = data.draw(st.integers(1, experts))
    copies, touched = busiest_rank(tokens, experts, k, ranks)
    local = experts // ranks
    assert tokens * k / ranks - 1e-6 <= copies <= tokens * min(k, local) + 1e-6
    assert 0 <= touched <= local + 1e-9 and touched <= copies + 1e-9
    assert touched >= experts_touched(tokens, experts, k) / ranks - 1e-6 or touched == copies


@settings(max_examples=100, deadline=None)
@given(tokens=st.integers(1, 50_000), ranks=RANKS, skew=st.floats(1.0, 2.0))
def test_imbalance_never_makes_the_module_faster(h100, tokens, ranks, skew):
    base = MoE(tokens, 4096, 1024, 128, 8, expert_parallel=ranks)
    skewed = MoE(tokens, 4096, 1024, 128, 8, expert_parallel=ranks, load_imbalance=skew)
    assert kernel_time(h100, skewed) >= kernel_time(h100, base) * (1 - 1e-12)


@settings(max_examples=60, deadline=None)
@given(tokens=st.integers(0, 100_000), experts=st.sampled_from([8, 64, 128, 256]), k=st.integers(1, 8))
def test_ep1_is_the_tensor_parallel_op(h100, tokens, experts, k):
    """EP=1 prices every touched expert's slice with all t*k copies, as before EP existed."""
    op = MoE(tokens, 2048, 768, experts, k, expert_parallel=1)
    touched = experts_touched(tokens, experts, k)
    up = op.sub_ops()[3]
    assert isinstance(up, Gemm) and np.allclose(up.groups, touched)
    assert np.allclose(np.asarray(up.m) * touched, tokens * k, atol=1e-6)
    assert kernel_time(h100, op) == kernel_time(h100, MoE(tokens, 2048, 768, experts, k))


def _weight_elements(op: MoE) -> float:
    up = op.sub_ops()[3]
    assert isinstance(up, Gemm)
    return float(up.groups * up.n * up.k)


def test_a_large_prefill_reads_the_same_expert_weights_per_gpu_under_ep_as_under_tp():
    """EP moves whole experts instead of slices: E/EP experts at full width = E slices at 1/EP."""
    t, h, f, e, k, n = 65_536, 4096, 2048, 64, 8, 8
    sliced = _weight_elements(MoE(t, h, f // n, e, k))
    whole = _weight_elements(MoE(t, h, f, e, k, expert_parallel=n))
    assert whole == pytest.approx(sliced, rel=1e-6)
    ep_rows = MoE(t, h, f, e, k, expert_parallel=n).sub_ops()[3]
    assert float(ep_rows.m * ep_rows.groups) == pytest.approx(t * k / n, rel=0.02)  # its copies only


def test_one_decode_token_on_an_expert_parallel_mixtral_reads_a_whole_expert(h100):
    """Top-2 of 8 experts over 8 GPUs: the busiest GPU reads one whole expert, 4x the two 1/8
    slices each GPU reads under TP8; that is why EP loses at batch 1."""
    tp = _weight_elements(MoE(1, 6144, 16384 // 8, 8, 2))
    ep = _weight_elements(MoE(1, 6144, 16384, 8, 2, expert_parallel=8))
    assert ep == pytest.approx(4 * tp, rel=1e-6)
    assert kernel_time(h100, MoE(1, 6144, 16384, 8, 2, expert_parallel=8)) > kernel_time(
        h100, MoE(1, 6144, 16384 // 8, 8, 2))


def test_expert_cost_is_paid_per_expert_touched(h100):
    from perfsim.calibration.fit import with_fitted

    hw = with_fitted(h100, {"moe.expert_s": 2e-6})
    for tokens in (1, 4, 4096):
        op = MoE(tokens, 2048, 64, 256, 8).without_router()
        added = kernel_time(hw, op) - kernel_time(h100, op)
        assert added == pytest.approx(2e-6 * experts_touched(tokens, 256, 8), rel=1e-6)
    assert kernel_time(hw, MoE(0, 2048, 64, 256, 8)) == 0.0


def test_a_runner_uses_its_own_figures_and_the_default_runner_ignores_them(h100):
    from perfsim.calibration.fit import with_fitted

    hw = with_fitted(h100, {"moe.flashinfer_cutlass.grouped_gemm_e": 0.3})
    fused = MoE(64, 2688, 1856, 128, 6).without_router()
    cutlass = MoE(64, 2688, 1856, 128, 6, runner="flashinfer_cutlass").without_router()
    assert kernel_time(hw, fused) == kernel_time(h100, fused)
    assert kernel_time(hw, cutlass) > 2 * kernel_time(h100, fused)


def test_mainloop_efficiency_matters_once_experts_are_compute_bound(h100):
    from perfsim.calibration.fit import with_fitted

    hw = with_fitted(h100, {"moe.block_fp8.mainloop_e": 0.25})
    decode = MoE(1, 7168, 2048, 256, 8, dtype="fp8").without_router()
    prefill = MoE(16384, 7168, 2048, 256, 8, dtype="fp8").without_router()
    assert kernel_time(hw, decode) < 1.5 * kernel_time(h100, decode)  # weight streaming
    assert kernel_time(hw, prefill) > 2.5 * kernel_time(h100, prefill)
