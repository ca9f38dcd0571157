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
