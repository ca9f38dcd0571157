"""MoE table mapping: the runner a row ran on, and the figures each label lets a fit move."""

import pandas as pd

from perfsim.calibration.tables import moe
from perfsim.calibration.tables.family import shape_hash
from perfsim.io.load import load_hardware


def _raw(sources, dtypes):
    tokens = [8, 16, 32][:len(dtypes)]
    return pd.DataFrame({"moe_dtype": dtypes, "kernel_source": sources, "num_tokens": tokens,
                         "hidden_size": 2688, "inter_size": 1856, "topk": 6, "num_experts": 128,
                         "moe_tp_size": 1, "moe_ep_size": 1, "latency": 0.1, "distribution": "balanced"})


def test_bf16_rows_on_flashinfers_cutlass_runner_are_marked_and_the_split_ignores_the_runner():
    raw = _raw(["sglang_flashinfer_cutlass_moe", "sglang_fused_moe_triton",
                "vllm_modeloptfp8moe_flashinfer_cutlass_flashinferexperts"], ["bfloat16", "bfloat16", "fp8"])
    rows = moe.rows(raw, "sglang").sort_values("num_tokens")
    # per-tensor fp8 experts keep the per_tensor_fp8 path (vLLM runs them all on that runner)
    assert list(rows["runner"]) == ["flashinfer_cutlass", "fused", "fused"]
    plain = rows.drop(columns="runner")
    assert (shape_hash(plain, moe._SHAPE) == shape_hash(rows, moe._SHAPE)).all()


def test_a_label_with_a_runner_fits_that_runners_figures_too():
    hw = load_hardware("h100-sxm")
    rows = moe.rows(_raw(["sglang_flashinfer_cutlass_moe", "sglang_fused_moe_triton"], ["bfloat16"] * 2),
                    "sglang")
    bounds = moe.params(rows, hw, "sglang")
    assert {"moe.grouped_gemm_e", "moe.mainloop_e", "moe.expert_s", "moe.flashinfer_cutlass.expert_s"} <= set(
        bounds)
    fp8 = moe.rows(_raw(["x"], ["fp8"]), "vllm")
    assert set(moe.params(fp8, hw, "vllm")) == {f"moe.per_tensor_fp8.{f}" for f in
                                                ("grouped_gemm_e", "mainloop_e", "t_fixed_s", "expert_s")}


def test_rows_without_a_runner_column_price_as_the_default_runner():
    hw = load_hardware("h100-sxm")
    rows = moe.rows(_raw(["triton"], ["bfloat16"]), "vllm")
    assert moe.predict(hw, rows.drop(columns="runner"), "vllm") == moe.predict(hw, rows, "vllm")
