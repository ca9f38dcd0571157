"""A runtime's fit recovers known efficiencies from synthetic tables priced with them."""

import itertools

import numpy as np
import pandas as pd
import pytest

from perfsim.calibration.fit import with_fitted
from perfsim.calibration.tables.driver import errors, fit_runtime, predict
from perfsim.io.load import load_hardware

TRUE = {"gemm.e_max.bf16": 0.74, "gemm.t_fixed_s": 3.0e-6, "gemm.e_bw": 0.7,
        "comm.allreduce_bus_eff": 0.6, "comm.allreduce_latency_s": 4.0e-6,
        "attention.decode_e_bw": 0.62, "attention.decode_item_s": 3.0e-8,
        "attention.t_fixed_s": 9.0e-6}


def _table(hw) -> pd.DataFrame:
    gemms = [dict(folder="gemm", family="gemm_bf16", dtype="bf16", scaling="none", m=m, n=n, k=k)
             for m, (n, k) in itertools.product((1, 16, 128, 1024, 8192),
                                                 [(4096, 4096), (14336, 4096), (4096, 14336), (1024, 512)])]
    comms = [dict(folder="comm", family="allreduce_custom", num_gpus=g, bytes_per_gpu=b)
             for g, b in itertools.product((2, 4, 8), np.geomspace(256, 2**28, 12))]
    attn = [dict(folder="attention", family="attn_decode", phase="decode", dtype="bf16", kv_dtype="bf16",
                 window=0, num_heads=32, num_kv_heads=kvh, head_dim=128, batch=b, q_len=1.0, kv_len=kv)
            for kvh, b, kv in itertools.product((1, 8), (1, 16, 256, 2048), (2, 512, 8192))]
    rows = pd.DataFrame(gemms + comms + attn).assign(runtime="vllm", split="fit")
    return rows.assign(measured_s=predict(with_fitted(hw, TRUE), rows))


def test_fit_recovers_known_parameters():
    hw = load_hardware("h100-sxm")
    rows = _table(hw)
    fitted = fit_runtime(hw, rows, "vllm")
    for path, value in TRUE.items():
        assert fitted[path] == pytest.approx(value, rel=0.05), path
    assert np.median(errors(predict(with_fitted(hw, fitted), rows), rows["measured_s"])) < 0.01


def test_fit_ignores_other_runtimes_and_the_test_half():
    hw = load_hardware("h100-sxm")
    rows = _table(hw)
    noise = rows.assign(runtime="sglang", measured_s=rows["measured_s"] * 3.0)
    held = rows.assign(split="test", measured_s=rows["measured_s"] * 5.0)
    fitted = fit_runtime(hw, pd.concat([rows, noise, held], ignore_index=True), "vllm")
    assert fitted["gemm.e_max.bf16"] == pytest.approx(TRUE["gemm.e_max.bf16"], rel=0.05)


#: Figures that refine the shared ones: fp8-KV decode, per-tensor fp8 MoE, the recurrent decode.
REFINED = {"attention.kv_fp8.decode_e_bw": 0.5, "attention.kv_fp8.decode_item_s": 1.0e-8,
           "moe.per_tensor_fp8.grouped_gemm_e": 0.3, "moe.per_tensor_fp8.t_fixed_s": 4.0e-5,
           "scan.decode_e_bw": 0.9, "scan.decode_t_fixed_s": 3.5e-6}


def _refined_table(hw) -> pd.DataFrame:
    attn = [dict(folder="attention", family="attn_decode_fp8kv", phase="decode", dtype="bf16", kv_dtype="fp8",
                 window=0, num_heads=32, num_kv_heads=kvh, head_dim=128, batch=b, q_len=1.0, kv_len=kv)
            for kvh, b, kv in itertools.product((1, 8), (1, 16, 256, 2048), (2, 512, 8192))]
    moes = [dict(folder="moe", family="moe_fp8", dtype="fp8", scaling="tensor", gated=True, hidden_size=h,
                 inter_size=f, num_experts=e, topk=k, num_tokens=t)
            for (h, f, e, k), t in itertools.product(
                [(4096, 1024, 64, 8), (2048, 768, 128, 8), (6144, 4096, 8, 2)], (1, 8, 64, 512, 4096))]
    gdn = [dict(folder="linear_attention", family="gdn_decode", kind="gdn", phase="decode",
                num_k_heads=hk, num_v_heads=2 * hk, head_k_dim=128, head_v_dim=128, conv_dim=0, d_conv=4,
                batch=b, seq_len=1.0)
           for hk, b in itertools.product((2, 8, 16), (1, 4, 32, 256, 1024))]
    rows = pd.DataFrame(attn + moes + gdn).assign(runtime="vllm", split="fit")
    return rows.assign(measured_s=predict(with_fitted(hw, REFINED), rows))


def test_fit_recovers_the_refining_figures():
    hw = load_hardware("h100-sxm")
    rows = _refined_table(hw)
    fitted = fit_runtime(hw, rows, "vllm")
    for path, value in REFINED.items():
        assert fitted[path] == pytest.approx(value, rel=0.05), path
    assert not {p for p in fitted if p.startswith(("attention.decode", "moe.grouped", "scan.e_"))}


def test_fit_recovers_nccl_ring_step():
    hw = load_hardware("h100-sxm")
    true = {"comm.allreduce_bus_eff": 0.6, "comm.allreduce_latency_s": 6.0e-6, "comm.ring_step_s": 1.5e-6}
    rows = pd.DataFrame([dict(folder="comm", family="allreduce_nccl", num_gpus=g, bytes_per_gpu=b)
                         for g, b in itertools.product((2, 4, 8), np.geomspace(512, 2**29, 14))])
    rows = rows.assign(runtime="nccl", split="fit")
    rows = rows.assign(measured_s=predict(with_fitted(hw, true), rows))
    fitted = fit_runtime(hw, rows, "nccl")
    for path, value in true.items():
        assert fitted[path] == pytest.approx(value, rel=0.05), path
