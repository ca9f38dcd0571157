"""GDN / Mamba2 table mapping: which channels each collector generation convolved, and which
conv kernel (per-channel rows or varlen tiles) its call ran."""

import pandas as pd

from perfsim.calibration.tables import gdn


def _raw(framework: str, version: str) -> pd.DataFrame:
    return pd.DataFrame({"framework": framework, "version": version, "kernel_source": "causal_conv1d_fn",
                         "phase": "context", "batch_size": [1, 2], "seq_len": 128, "d_conv": 4,
                         "num_k_heads": 16, "head_k_dim": 128, "num_v_heads": 32, "head_v_dim": 128,
                         "latency": 0.01})


def test_packed_collectors_convolve_q_k_v_on_the_varlen_kernel():
    for framework, version in (("vLLM", "0.24.0"), ("SGLang", "0.5.14")):
        rows = gdn.rows(_raw(framework, version), "vllm")
        assert (rows["conv_channels"] == 2 * 16 * 128 + 32 * 128).all()
        assert (rows["conv_kernel"] == "tiles").all()


def test_batched_collectors_convolve_keys_on_the_per_channel_kernel():
    for framework, version in (("TRTLLM", "1.3.0rc20"), ("SGLang", "0.5.10")):
        rows = gdn.rows(_raw(framework, version), "tensorrt-llm")
        assert (rows["conv_channels"] == 16 * 128).all()
        assert (rows["conv_kernel"] == "rows").all()
        assert (rows["conv_dim"] == 2 * 16 * 128 + 32 * 128).all()  # the shape (and its split) unchanged


def test_mamba2_table_convolves_x_b_c_on_the_per_channel_kernel():
    raw = pd.DataFrame({"framework": "TRTLLM", "version": "1.3.0rc20", "kernel_source": "causal_conv1d_fn",
                        "phase": "context", "batch_size": 4, "seq_len": 64, "d_conv": 4, "nheads": 64,
                        "head_dim": 64, "n_groups": 8, "d_state": 128, "latency": 0.02}, index=[0])
    rows = gdn.rows(raw, "tensorrt-llm")
    assert rows["conv_channels"].iloc[0] == 64 * 64 + 2 * 8 * 128
    assert rows["conv_kernel"].iloc[0] == "rows"


def test_flashinfer_table_runs_the_fused_prefill_scan():
    raw = _raw("vLLM", "0.24.0")
    fused = pd.concat([raw, raw.assign(kernel_source="chunk_gated_delta_rule_flashinfer")], ignore_index=True)
    assert (gdn.rows(fused, "vllm")["scan_kernel"] == "fused").all()
    assert (gdn.rows(_raw("SGLang", "0.5.14"), "sglang")["scan_kernel"] == "chunked").all()
