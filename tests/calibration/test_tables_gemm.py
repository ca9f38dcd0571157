"""GEMM table mapping: which quantisation figures fp8 labels fit, and a fit recovering them."""

import itertools

import pandas as pd
import pytest

from perfsim.calibration.fit import with_fitted
from perfsim.calibration.tables import gemm
from perfsim.calibration.tables.driver import fit_runtime, predict
from perfsim.io.load import load_hardware


def _frame(scaling, shapes):
    family = {"none": "gemm_bf16", "tensor": "gemm_fp8", "block": "gemm_fp8_block"}[scaling]
    dtype = "bf16" if scaling == "none" else "fp8"
    return pd.DataFrame([dict(folder="gemm", family=family, dtype=dtype, scaling=scaling, m=m, n=n, k=k)
                         for m, n, k in shapes])


def test_only_fp8_labels_fit_the_quantisation_and_cta_figures():
    hw = load_hardware("h100-sxm")
    shapes = [(16, 4096, 4096)]
    assert not {p for p in gemm.params(_frame("none", shapes), hw, "vllm") if "quant" in p or "cta" in p}
    block = gemm.params(_frame("block", shapes), hw, "sglang")
    expected = {"gemm.quant_block.row_s", "gemm.quant_block.e_bw", "gemm.block_scaled_e", "gemm.cta_bw_share"}
    assert expected <= set(block)
    assert "gemm.quant_tensor.row_s" not in block


def test_fit_recovers_the_per_row_cost_of_vllms_static_quantisation():
    hw = load_hardware("h100-sxm")
    true = {"gemm.quant_tensor.row_s": 7.0e-9, "gemm.quant_tensor.e_bw": 0.35}
    shapes = list(itertools.product((1, 64, 1024, 8192, 32768), (32, 4096), (64, 2048, 16384)))
    rows = _frame("tensor", shapes).assign(runtime="vllm", split="fit")
    rows = rows.assign(measured_s=predict(with_fitted(hw, true), rows))
    fitted = fit_runtime(hw, rows, "vllm")
    for path, value in true.items():
        assert fitted[path] == pytest.approx(value, rel=0.1), path
