import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.ops import AllReduce, LinearAttention, Mamba2, MoE, experts_touched, kernel_time, registered_ops


def test_registry_lists_every_family():
    assert {"gemm", "attention", "mamba2", "linear_attention", "moe", "elementwise", "allreduce"} <= set(
        registered_ops()
    )


def test_mamba2_decode_cost_is_independent_of_context(h100):
    """A recurrent state is constant per sequence: no context term exists in the op at all."""
    op = Mamba2("decode", 8, 1, 128, 64, 128, 8)
    state = 128 * 64 * 128 * 4
    assert op.state_bytes_per_seq() == state
    assert op.cost().bytes >= 2 * 8 * state  # read and write once


def test_mamba2_prefill_is_linear_in_length(h100):
    t1 = kernel_time(h100, Mamba2("prefill", 1, 8192, 128, 64, 128, 8, 128))
    t2 = kernel_time(h100, Mamba2("prefill", 1, 16384, 128, 64, 128, 8, 128))
    assert 1.7 < t2 / t1 < 2.05


def test_linear_attention_state_bytes():
    op = LinearAttention("decode", 1, 1, 16, 128, 128, "deltanet")
    assert op.state_bytes_per_seq() == 16 * 128 * 128 * 4


@settings(max_examples=100, deadline=None)
@given(tokens=st.integers(0, 100000), experts=st.integers(1, 512), data=st.data())
def test_experts_touched_bounds(tokens, experts, data):
    k = data.draw(st.integers(1, experts))
    touched = float(experts_touched(tokens, experts, k))
    assert touched <= experts + 1e-9
    assert touched <= tokens * k + 1e-9
    if tokens:
        assert touched >= k - 1e-9


def test_moe_decode_reads_only_touched_experts(h100):
    one = MoE(1, 2880, 2880, 128, 4).cost().bytes
    per_expert = 3 * 2880 * 2880 * 2
    assert 4 * per_expert <= one < 5 * per_expert
    assert kernel_time(h100, MoE(4096, 2880, 2880, 128, 4)) > kernel_time(h100, MoE(1, 2880, 2880, 128, 4))


def test_allreduce_single_gpu_is_free_and_ring_cost_grows(h100):
    assert kernel_time(h100, AllReduce(1e6, 1)) == 0.0
    assert kernel_time(h100, AllReduce(1e8, 8)) > kernel_time(h100, AllReduce(1e8, 2))


def test_tensor_parallel_beyond_nvlink_domain_is_rejected(h100):
    import perfsim

    with pytest.raises(perfsim.PerfsimInputError, match="exceeds the 8-GPU"):
        kernel_time(h100, AllReduce(1e6, 16))


def test_gdn_prefill_has_a_sequential_chunk_floor(h100):
    """One chain of chunk states per (sequence, head): few chains wait on the chain, many on work."""
    data = h100.model_dump()
    data["efficiency"]["scan"]["chunk_step_s"] = 3e-6
    chained = type(h100).model_validate(data)
    lone = LinearAttention("prefill", 1, 32768, 2, 128, 128)
    assert kernel_time(chained, lone) >= 512 * 3e-6
    assert kernel_time(h100, lone) < 512 * 3e-6  # prior without the term
    busy = LinearAttention("prefill", 64, 8192, 32, 128, 128)
    waves = 64 * 32 / h100.compute.sm_count
    assert kernel_time(chained, busy) >= 128 * 3e-6 * waves
    assert kernel_time(chained, LinearAttention("decode", 8, 1, 32, 128, 128)) == kernel_time(
        h100, LinearAttention("decode", 8, 1, 32, 128, 128))


def test_moe_module_without_router_and_grouped_efficiency(h100):
    moe = MoE(64, 4096, 1024, 64, 8)
    assert kernel_time(h100, moe.without_router()) < kernel_time(h100, moe)
    data = h100.model_dump()
    data["efficiency"]["moe"] = {"grouped_gemm_e": 0.5, "t_fixed_s": 1e-5}
    slow = type(h100).model_validate(data)
    assert kernel_time(slow, moe) > kernel_time(h100, moe) + 1e-5
    assert kernel_time(slow, MoE(0, 4096, 1024, 64, 8)) == 0.0


def test_gdn_chunk_floor_is_paid_in_whole_waves(h100):
    """Measured GDN prefill is flat up to one chain per SM and steps at each further wave."""
    data = h100.model_dump()
    data["efficiency"]["scan"] |= {"chunk_step_s": 3e-5, "e_flops": 1.0, "e_bw": 1.0}
    chained = type(h100).model_validate(data)
    sms = h100.compute.sm_count

    def floor(chains):
        # the fused kernel (FlashInfer): the floor is not added to a per-chain memory stream
        op = LinearAttention("prefill", chains, 4096, 1, 128, 128, prefill_kernel="fused")
        return kernel_time(chained, op)

    assert floor(2) == pytest.approx(floor(sms), rel=0.05)
    assert floor(sms + 1) == pytest.approx(2 * floor(sms), rel=0.1)


def test_recurrent_decode_has_figures_of_its_own(h100):
    data = h100.model_dump()
    data["efficiency"]["scan"] |= {"decode_e_bw": 0.3, "decode_t_fixed_s": 2e-5}
    own = type(h100).model_validate(data)
    decode = LinearAttention("decode", 256, 1, 32, 128, 128)
    prefill = LinearAttention("prefill", 4, 4096, 32, 128, 128)
    assert kernel_time(own, decode) > kernel_time(h100, decode) + 1.9e-5
    assert kernel_time(own, prefill) == kernel_time(h100, prefill)


@pytest.mark.parametrize("scaling", ["tensor", "block"])
def test_fp8_moe_paths_have_figures_of_their_own(h100, scaling):
    data = h100.model_dump()
    key = {"tensor": "per_tensor_fp8", "block": "block_fp8"}[scaling]
    data["efficiency"]["moe"][key] = {"grouped_gemm_e": 0.2, "t_fixed_s": 5e-5}
    own = type(h100).model_validate(data)
    fp8 = MoE(64, 4096, 1024, 64, 8, dtype="fp8", weight_scaling=scaling)
    other_scaling = "block" if scaling == "tensor" else "tensor"
    other = MoE(64, 4096, 1024, 64, 8, dtype="fp8", weight_scaling=other_scaling)
    bf16 = MoE(64, 4096, 1024, 64, 8, weight_scaling=scaling)
    assert kernel_time(own, fp8) > kernel_time(h100, fp8) + 5e-5
    assert kernel_time(own, other) == kernel_time(h100, other)
    assert kernel_time(own, bf16) == kernel_time(h100, bf16)  # bf16 experts: the shared figures
