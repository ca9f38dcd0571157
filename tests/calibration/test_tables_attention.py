"""The attention mapper's fittable figures follow the kernel the rows run (H100 SXM profile)."""

import pandas as pd
import pytest

from perfsim.calibration.tables import attention
from perfsim.io.load import load_hardware


def _decode(num_heads: int, num_kv_heads: int) -> pd.DataFrame:
    return pd.DataFrame({"family": "attn_decode", "phase": "decode", "dtype": "bf16", "kv_dtype": "bf16",
                         "window": 0, "num_heads": [num_heads], "num_kv_heads": [num_kv_heads],
                         "head_dim": 128, "batch": 8.0, "q_len": 1.0, "kv_len": 4096.0})


@pytest.fixture(scope="module")
def hw():
    return load_hardware("h100-sxm")


def test_per_head_kernel_figures_are_fitted_only_where_rows_run_it(hw):
    """TRT-LLM's XQA serves up to 32 query heads per KV head: a group of 8 fits the grouped
    kernel's figures alone; MHA adds the per-head item cost; a group of 64 its re-read rate too."""
    grouped = attention.params(_decode(32, 4), hw, "tensorrt-llm")
    mha = attention.params(_decode(32, 32), hw, "tensorrt-llm")
    wide = attention.params(_decode(64, 1), hw, "tensorrt-llm")
    reread = "attention.implementations.trtllm-fmha.decode_reread_e_bw"
    assert not any("decode_head_item_s" in p or "reread" in p for p in grouped)
    assert "attention.decode_head_item_s" in mha and reread not in mha
    assert {"attention.decode_head_item_s", reread} <= set(wide)


def test_runtimes_without_a_group_limit_fit_no_per_head_figures(hw):
    for runtime in ("vllm", "sglang"):
        bounds = attention.params(_decode(64, 1), hw, runtime)
        assert not any("decode_head_item_s" in p or "reread" in p for p in bounds)


def test_wide_groups_price_far_above_one_shared_pass(hw):
    """A group of 64 over one KV head under TRT-LLM re-streams the head per query head; vLLM's
    split-KV kernel serves the whole group in one pass."""
    frame = _decode(64, 1)
    trt = attention.predict(hw, frame, "tensorrt-llm")[0]
    vllm = attention.predict(hw, frame, "vllm")[0]
    assert trt > 4 * vllm


def test_split_cta_cost_is_fitted_for_trtllm_decode_on_both_caches(hw):
    bf16 = attention.params(_decode(32, 8), hw, "tensorrt-llm")
    fp8 = attention.params(_decode(32, 8).assign(kv_dtype="fp8"), hw, "tensorrt-llm")
    assert "attention.implementations.trtllm-fmha.decode_split_cta_s" in bf16
    assert "attention.kv_fp8.decode_split_cta_s" in fp8
    assert not any("split" in p for p in attention.params(_decode(32, 8), hw, "vllm"))
