"""The causal conv1d op: state traffic per phase, the per-(sequence, channel) floor of the
per-channel CUDA kernel, and the decode update's own figures."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.calibration.fit import with_fitted
from perfsim.ops import CausalConv1d, Elementwise, kernel_time, registered_ops


def test_registered_and_state_moved_once_at_prefill_twice_at_decode():
    assert "causal_conv1d" in registered_ops()
    channels, width = 6144, 4
    state = 8 * (width - 1) * channels * 2
    prefill = CausalConv1d("prefill", 8, 1, channels, width).cost().bytes
    decode = CausalConv1d("decode", 8, 1, channels, width).cost().bytes
    assert decode - prefill == pytest.approx(state)


def test_tiles_kernel_prices_as_the_memory_stream(h100):
    op = CausalConv1d("prefill", 4, 512, 8192, 4)
    stream = Elementwise("conv1d", op.cost().bytes, 0.0, op.cost().flops)
    assert kernel_time(h100, op) == pytest.approx(kernel_time(h100, stream))


def test_rows_kernel_floor_is_batch_times_channels_per_sm(h100):
    row_s = 1e-7
    hw = with_fitted(h100, {"scan.conv_row_s": row_s})
    rows = CausalConv1d("prefill", 64, 8, 2048, 4, kernel="rows")
    tiles = CausalConv1d("prefill", 64, 8, 2048, 4)
    floor = 64 * 2048 * row_s / hw.compute.sm_count
    assert kernel_time(hw, rows) == pytest.approx(hw.efficiency_in_use.memory.t_fixed_s + floor)
    assert kernel_time(hw, rows) > 5 * kernel_time(hw, tiles)
    # the decode update blocks channels: no per-row floor
    assert kernel_time(hw, CausalConv1d("decode", 64, 1, 2048, 4, kernel="rows")) == pytest.approx(
        kernel_time(hw, CausalConv1d("decode", 64, 1, 2048, 4)))


def test_decode_has_its_own_figures_else_the_memory_ones(h100):
    op = CausalConv1d("decode", 256, 1, 8192, 4)
    base = kernel_time(h100, op)
    faster = kernel_time(with_fitted(h100, {"scan.conv_decode_t_fixed_s": 1e-6}), op)
    assert base - faster == pytest.approx(h100.efficiency_in_use.memory.t_fixed_s - 1e-6)
    prefill = CausalConv1d("prefill", 256, 1, 8192, 4)
    assert kernel_time(with_fitted(h100, {"scan.conv_decode_t_fixed_s": 1e-6}), prefill) == pytest.approx(
        kernel_time(h100, prefill))


@settings(max_examples=50, deadline=None)
@given(batch=st.integers(1, 256), seq=st.integers(1, 8192), channels=st.sampled_from([512, 2048, 12288]),
       kernel=st.sampled_from(["tiles", "rows"]))
def test_time_grows_with_tokens_and_is_zero_without_work(h100, batch, seq, channels, kernel):
    hw = with_fitted(h100, {"scan.conv_row_s": 1e-7})
    t = kernel_time(hw, CausalConv1d("prefill", batch, np.array([seq, 2 * seq]), channels, 4, kernel=kernel))
    assert t[1] >= t[0] > 0
    assert kernel_time(hw, CausalConv1d("prefill", 0, seq, channels, 4, kernel=kernel)) == 0.0
