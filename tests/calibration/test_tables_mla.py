"""MLA tables map onto the MLA attention op and the GEMMs that do the same work (committed sample of
aiconfigurator-core 0.12.0, H100/A100 SXM), and a runtime's fit recovers known MLA figures."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perfsim.calibration.fit import with_fitted
from perfsim.calibration.tables import mla, mla_bmm
from perfsim.calibration.tables.driver import errors, fit_runtime, predict
from perfsim.calibration.tables.load import FAMILIES, load_csv
from perfsim.io.load import load_hardware

SAMPLE = Path(__file__).parent / "data" / "aiconfigurator_mla_sample.csv"
PROFILES = {"h100_sxm": "h100-sxm", "a100_sxm": "a100-sxm-80gb"}


def _raw(system: str, folder: str, runtime: str) -> pd.DataFrame:
    raw = pd.read_csv(SAMPLE)
    return raw[(raw["system"] == system) & (raw["folder"] == folder) & (raw["runtime"] == runtime)].dropna(
        axis=1, how="all"
    )


def test_generation_attends_over_step_plus_one_keys_and_context_over_its_prompt():
    raw = _raw("h100_sxm", "mla", "tensorrt-llm")
    rows = mla.rows(raw, "tensorrt-llm")
    rows = rows[~rows["family"].str.startswith("mla_module")]
    decode, prefill = rows[rows["phase"] == "decode"], rows[rows["phase"] == "prefill"]
    steps = set(raw.loc[raw["op_name"] == "mla_generation", "step"] + 1)
    assert set(decode["kv_len"]) <= steps and (decode["q_len"] == 1).all()
    assert (prefill["q_len"] == prefill["kv_len"]).all() and len(prefill) and len(decode)
    assert set(rows.loc[rows["kv_dtype"] == "fp8", "family"]) <= {"mla_prefill_fp8kv", "mla_decode_fp8kv"}
    assert set(rows["num_heads"]) <= set(raw["num_heads"])  # heads on one GPU, as logged
    one = rows.iloc[0]
    match = raw[(raw["num_heads"] == one["num_heads"]) & (raw["batch_size"] == one["batch"])]
    assert one["measured_s"] * 1e3 in set(match["latency"])


def test_sglang_runs_the_absorbed_form_in_prefill_and_tensorrt_llm_the_expanded_one():
    sglang = mla.rows(_raw("h100_sxm", "mla", "sglang"), "sglang")
    trt = mla.rows(_raw("h100_sxm", "mla", "tensorrt-llm"), "tensorrt-llm")
    trt = trt[~trt["family"].str.startswith("mla_module")]
    assert sglang["absorbed"].all()
    assert not trt.loc[trt["phase"] == "prefill", "absorbed"].any()
    assert trt.loc[trt["phase"] == "decode", "absorbed"].all()


def test_bmm_rows_are_per_head_gemms_and_fp8_only_where_the_runtime_has_it():
    rows = mla_bmm.rows(_raw("h100_sxm", "mla_bmm", "sglang"), "sglang")
    pre, post = (
        rows[rows["family"].str.startswith("mla_bmm_pre")],
        rows[rows["family"].str.startswith("mla_bmm_post")],
    )
    assert set(zip(pre["n"], pre["k"], strict=True)) == {(512.0, 128.0)}
    assert set(zip(post["n"], post["k"], strict=True)) == {(128.0, 512.0)}
    assert set(rows.loc[rows["dtype"] == "fp8", "scaling"]) == {"tensor"}
    trt = mla_bmm.rows(_raw("h100_sxm", "mla_bmm", "tensorrt-llm"), "tensorrt-llm")
    assert set(trt.loc[trt["dtype"] == "fp8", "scaling"]) == {"block"}
    assert mla_bmm.params(rows, load_hardware("h100-sxm"), "sglang") == {}  # priced by GEMM figures


@pytest.mark.parametrize(
    ("system", "folder", "runtime"),
    [
        ("h100_sxm", "mla", "sglang"),
        ("h100_sxm", "mla", "tensorrt-llm"),
        ("a100_sxm", "mla", "tensorrt-llm"),
        ("h100_sxm", "mla_bmm", "vllm"),
        ("h100_sxm", "mla", "vllm"),
        ("h100_sxm", "mla_bmm", "tensorrt-llm"),
    ],
)
def test_every_sample_row_is_priced_within_a_factor_of_the_measurement(system, folder, runtime):
    raw = _raw(system, folder, runtime)
    rows = FAMILIES[folder].rows(raw, runtime).assign(folder=folder, runtime=runtime)
    hw = load_hardware(PROFILES[system])
    if system == "a100_sxm":  # TensorRT-LLM 1.0's sm80 MLA decode kernel has no split-KV
        hw = with_fitted(hw, {"attention.mla.decode_kv_splits": 2.0})
    predicted = predict(hw, rows)
    assert len(rows) and np.isfinite(predicted).all()
    ratio = predicted / rows["measured_s"].to_numpy()
    assert ((ratio > 0.1) & (ratio < 10)).all()  # priors, uncalibrated: same work, right order


def test_csv_import_maps_mla_rows():
    frame = load_csv(str(SAMPLE), "sglang")
    assert {"mla", "mla_bmm"} <= set(frame["folder"])
    assert {"mla_prefill", "mla_decode", "mla_bmm_pre_fp8"} <= set(frame["family"])


def test_every_fitted_path_moves_the_prediction():
    hw = load_hardware("h100-sxm")
    for runtime in ("sglang", "tensorrt-llm"):
        rows = mla.rows(_raw("h100_sxm", "mla", runtime), runtime).assign(folder="mla", runtime=runtime)
        for _, group in rows.groupby("family"):
            before = predict(hw, group)
            for path, (lo, hi) in mla.params(group, hw, runtime).items():
                moved = predict(with_fitted(hw, {path: float(np.sqrt(lo * hi))}), group)
                assert not np.allclose(moved, before), path


TRUE = {
    "attention.mla.t_fixed_s": 8.0e-6,
    "attention.mla.decode_e_bw": 0.7,
    "attention.mla.decode_e_flops": 0.45,
    "attention.mla.prefill_e": 0.7,
}


def test_fit_recovers_known_mla_figures():
    hw = load_hardware("h100-sxm")
    decode = [
        dict(phase="decode", family="mla_decode", q_len=1.0, kv_len=kv, batch=b, num_heads=h)
        for h, b, kv in itertools.product((16, 128), (1, 32, 512), (64, 4096, 32768))
    ]
    prefill = [
        dict(phase="prefill", family="mla_prefill", q_len=q, kv_len=q, batch=b, num_heads=h)
        for h, b, q in itertools.product((16, 128), (1, 8), (512, 4096, 16384))
    ]
    rows = pd.DataFrame(decode + prefill).assign(
        folder="mla",
        runtime="tensorrt-llm",
        split="fit",
        dtype="bf16",
        kv_dtype="bf16",
        absorbed=lambda f: f["phase"] == "decode",
    )
    rows["measured_s"] = predict(with_fitted(hw, TRUE), rows)
    fitted = fit_runtime(hw, rows, "tensorrt-llm")
    for path, value in TRUE.items():
        assert fitted[path] == pytest.approx(value, rel=0.1), path
    assert np.median(errors(predict(with_fitted(hw, fitted), rows), rows["measured_s"])) < 0.02


def test_module_generation_steps_count_the_new_token_in_vllm_only():
    vllm = mla.rows(_raw("h100_sxm", "mla", "vllm"), "vllm")
    trt = mla.rows(_raw("h100_sxm", "mla", "tensorrt-llm"), "tensorrt-llm")
    raw_vllm = _raw("h100_sxm", "mla", "vllm")
    steps = set(raw_vllm.loc[raw_vllm["op_name"] == "mla_generation_module", "step"])
    decode = vllm[vllm["phase"] == "decode"]
    assert len(decode) and set(decode["kv_len"]) <= steps  # vLLM's step already counts the new token
    raw_trt = _raw("h100_sxm", "mla", "tensorrt-llm")
    trt_steps = set(raw_trt.loc[raw_trt["op_name"] == "mla_generation_module", "step"] + 1)
    assert set(trt.loc[trt["family"].str.startswith("mla_module_decode"), "kv_len"]) <= trt_steps
    assert {"mla_module_prefill_fp8gemm", "mla_module_decode_fp8kv"} <= set(vllm["family"])
    assert {"mla_prefill", "mla_module_prefill"} <= set(trt["family"])  # kernels and modules side by side


def test_a_module_costs_more_than_its_attention_kernel():
    hw = load_hardware("h100-sxm")
    rows = mla.rows(_raw("h100_sxm", "mla", "tensorrt-llm"), "tensorrt-llm").assign(
        folder="mla", runtime="tensorrt-llm"
    )
    module = rows[rows["family"] == "mla_module_decode"]
    kernel = module.assign(family="mla_decode", absorbed=True)
    assert (predict(hw, module) > predict(hw, kernel)).all()
