"""The bf16 -> fp8 activation quantisation pass: bytes once, a per-row floor, kernels per scheme."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.calibration.fit import with_fitted
from perfsim.ops import ActivationQuant, kernel_time
from perfsim.ops.quant import SCHEMES


def test_narrow_rows_cost_the_row_floor_whatever_their_width(h100):
    hw = with_fitted(h100, {"gemm.quant_tensor.row_s": 7e-9, "gemm.quant_tensor.t_fixed_s": 0.0})
    narrow = [kernel_time(hw, ActivationQuant(32768, w, "static")) for w in (64, 512, 1024)]
    assert narrow == pytest.approx([32768 * 7e-9] * 3)
    wide = kernel_time(hw, ActivationQuant(32768, 65536, "static"))
    assert wide > 5 * narrow[0]  # bytes, not rows, at 64k columns


def test_without_a_row_cost_the_pass_streams_its_bytes(h100):
    op = ActivationQuant(4096, 8192, "static")
    memory = h100.efficiency_in_use.memory
    bytes_moved = 3.0 * 4096 * 8192
    expected = memory.t_fixed_s + bytes_moved / (h100.memory.peak_bw_bytes_per_s * memory.e_bw)
    assert kernel_time(h100, op) == pytest.approx(expected)
    assert op.cost().bytes == bytes_moved


def test_own_stream_efficiency_and_fixed_cost_override_the_memory_figures(h100):
    op = ActivationQuant(4096, 8192, "block")
    slow = with_fitted(h100, {"gemm.quant_block.e_bw": 0.3, "gemm.quant_block.t_fixed_s": 1e-6})
    assert kernel_time(slow, op) > 2 * kernel_time(h100, op)
    # per-tensor figures leave the block-scaled pass alone
    assert kernel_time(with_fitted(h100, {"gemm.quant_tensor.e_bw": 0.3}), op) == kernel_time(h100, op)


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_dynamic_scaling_adds_its_absmax_pass_and_kernels(h100, scheme):
    op = ActivationQuant(1024, 4096, scheme)
    assert op.kernel_count == SCHEMES[scheme]
    static = ActivationQuant(1024, 4096, "static")
    assert kernel_time(h100, op) >= kernel_time(h100, static)
    assert kernel_time(h100, ActivationQuant(0, 4096, scheme)) == 0.0


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        ActivationQuant(1, 1, "per_channel")


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 65536), width=st.integers(1, 65536), grow=st.integers(2, 8),
       row_s=st.sampled_from([0.0, 1e-9, 8e-9]))
def test_never_faster_for_more_rows_or_wider_rows(h100, rows, width, grow, row_s):
    hw = with_fitted(h100, {"gemm.quant_tensor.row_s": row_s})
    base = kernel_time(hw, ActivationQuant(rows, width, "dynamic"))
    assert kernel_time(hw, ActivationQuant(rows * grow, width, "dynamic")) >= base
    assert kernel_time(hw, ActivationQuant(rows, width * grow, "dynamic")) >= base


def test_vectorised_equals_scalar(h100):
    rows = np.array([1.0, 64.0, 4096.0])
    vector = ActivationQuant(rows, 2048.0, "dynamic_zeroed").time(h100)
    scalar = [float(ActivationQuant(r, 2048.0, "dynamic_zeroed").time(h100)) for r in rows]
    assert vector == pytest.approx(scalar)
