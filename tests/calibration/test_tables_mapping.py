"""Every published row maps onto the perfsim op that prices the same work (committed sample of
aiconfigurator-core 0.12.0, H100/A100 SXM)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perfsim.calibration.tables import attention, comm, gdn, gemm, moe
from perfsim.calibration.tables.driver import predict
from perfsim.calibration.tables.load import load_csv
from perfsim.io.load import load_hardware

DATA = Path(__file__).parents[2] / "benchmarks" / "data" / "aiconfigurator"
RUNTIMES = ("vllm", "sglang", "tensorrt-llm", "nccl")


def _raw(system: str, folder: str, runtime: str) -> pd.DataFrame:
    raw = pd.read_csv(DATA / f"{system}_sample.csv")
    return raw[(raw["folder"] == folder) & (raw["runtime"] == runtime)].dropna(axis=1, how="all")


def test_gemm_rows_are_seconds_and_vllm_block_fp8_is_not_mapped():
    raw = _raw("h100_sxm", "gemm", "vllm")
    rows = gemm.rows(raw, "vllm")
    assert "gemm_fp8_block" not in set(rows["family"]) and {"gemm_bf16", "gemm_fp8"} <= set(rows["family"])
    one = rows.iloc[0]
    match = raw[(raw["m"] == one["m"]) & (raw["n"] == one["n"]) & (raw["k"] == one["k"])]
    assert one["measured_s"] == pytest.approx(match["latency"].min() * 1e-3)
    sglang = gemm.rows(_raw("h100_sxm", "gemm", "sglang"), "sglang")
    assert set(sglang.loc[sglang["family"] == "gemm_fp8_block", "scaling"]) == {"block"}


def test_fp8_gemm_pays_for_quantising_its_input():
    hw = load_hardware("h100-sxm")
    frame = pd.DataFrame({"family": "gemm_fp8", "dtype": "fp8", "scaling": ["none", "tensor", "block"],
                          "m": 64.0, "n": 4096.0, "k": 4096.0})
    none, tensor, block = gemm.predict(hw, frame, "sglang")
    assert none < block < tensor  # dynamic per-tensor: absmax pass + quantise pass; block: one fused pass
    static, _, _ = gemm.predict(hw, frame.iloc[[1, 1, 1]].reset_index(drop=True), "vllm")
    zeroed, _, _ = gemm.predict(hw, frame.iloc[[1, 1, 1]].reset_index(drop=True), "tensorrt-llm")
    assert none < static < tensor < zeroed  # vLLM: static input scale (quantise only); TRT-LLM: + zeroing


def test_generation_attention_attends_over_step_plus_one_keys():
    rows = attention.rows(_raw("h100_sxm", "attention", "vllm"), "vllm")
    decode, prefill = rows[rows["phase"] == "decode"], rows[rows["phase"] == "prefill"]
    raw = _raw("h100_sxm", "attention", "vllm")
    steps = set(raw.loc[raw["op_name"] == "generation_attention", "step"] + 1)
    assert set(decode["kv_len"]) <= steps and (decode["q_len"] == 1).all()
    assert (prefill["q_len"] == prefill["kv_len"]).all()
    assert set(rows.loc[rows["window"] > 0, "family"]) <= {f for f in rows["family"] if f.endswith("_window")}
    assert set(rows.loc[rows["kv_dtype"] == "fp8", "family"]) <= {f for f in rows["family"] if "fp8kv" in f}


def test_allreduce_counts_elements_and_keeps_graph_replays_only():
    raw = _raw("h100_sxm", "comm", "vllm")
    rows = comm.rows(raw, "vllm")
    graphs = raw[raw["backend"].str.endswith("_graph")]
    assert len(rows) == len(graphs) < len(raw)
    assert set(rows["bytes_per_gpu"]) == set(graphs["message_size"] * 2.0)
    nccl = comm.rows(_raw("h100_sxm", "comm", "nccl"), "nccl")
    assert set(nccl["family"]) == {"allreduce_nccl"}


def test_moe_maps_tensor_parallel_width_and_skips_expert_parallel_and_skewed_rows():
    raw = pd.DataFrame({"moe_dtype": ["bfloat16", "bfloat16", "bfloat16", "int4_wo"],
                        "kernel_source": ["triton"] * 4, "num_tokens": [8, 8, 8, 8], "hidden_size": 4096,
                        "inter_size": 14336, "topk": 2, "num_experts": 8, "moe_tp_size": [2, 1, 1, 1],
                        "moe_ep_size": [1, 2, 1, 1], "latency": 0.1,
                        "distribution": ["balanced", "balanced", "power_law_1.2", "balanced"]})
    rows = moe.rows(raw, "vllm")
    assert len(rows) == 1 and rows["inter_size"].iloc[0] == 7168


def test_gdn_conv_runs_over_keys_queries_and_values():
    raw = _raw("h100_sxm", "linear_attention", "vllm")
    rows = gdn.rows(raw, "vllm")
    conv = rows[rows["kind"] == "conv1d"].iloc[0]
    keys = conv["num_k_heads"] * conv["head_k_dim"]
    assert conv["conv_dim"] == 2 * keys + conv["num_v_heads"] * conv["head_v_dim"]
    assert set(rows["family"]) <= {"conv1d_prefill", "conv1d_decode", "gdn_prefill", "gdn_decode"}


@pytest.mark.parametrize(("system", "profile"), [("h100_sxm", "h100-sxm"), ("a100_sxm", "a100-sxm-80gb")])
def test_every_mapped_row_is_priced(system, profile):
    hw = load_hardware(profile)
    frames = [load_csv(str(DATA / f"{system}_sample.csv"), runtime, system) for runtime in RUNTIMES]
    rows = pd.concat(frames, ignore_index=True)
    assert len(rows) > 50 and rows["split"].isin(["fit", "test"]).all()
    predicted = predict(hw, rows)
    assert np.isfinite(predicted).all() and (predicted > 0).all()
    ratio = predicted / rows["measured_s"].to_numpy()
    assert 0.02 < np.median(ratio) < 50  # units agree (ms -> s, elements -> bytes)
