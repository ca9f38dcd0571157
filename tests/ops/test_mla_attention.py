"""The MLA attention op: work counted for the absorbed and expanded forms, priced with attention.mla."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.calibration.fit import with_fitted
from perfsim.io.load import load_hardware
from perfsim.ops.mla_attention import MLAAttention

H100 = load_hardware("h100-sxm")


def test_absorbed_decode_reads_the_latent_once_for_every_head():
    few, many = (MLAAttention("decode", 8, 1, 4096, h).cost() for h in (16, 128))
    latent = 8 * 4096 * 576 * 2
    assert few.bytes - 8 * 16 * (576 + 512) * 2 == pytest.approx(latent)
    assert many.bytes - 8 * 128 * (576 + 512) * 2 == pytest.approx(latent)
    assert many.flops == pytest.approx(8 * few.flops)
    assert many.flops == pytest.approx(2 * (576 + 512) * 8 * 128 * 4096)


def test_expanded_prefill_counts_causal_scores_with_192_wide_keys():
    op = MLAAttention("prefill", 1, 1024, 1024, 128, absorbed=False)
    assert op.cost().flops == pytest.approx(2 * (192 + 128) * 128 * 1024 * 1025 / 2)
    assert op.cost().flops < MLAAttention("prefill", 1, 1024, 1024, 128).cost().flops


def test_an_fp8_cache_halves_the_latent_stream():
    bf16 = MLAAttention("decode", 64, 1, 32768, 16).cost().bytes
    fp8 = MLAAttention("decode", 64, 1, 32768, 16, kv_dtype="fp8").cost().bytes
    q_and_o = 64 * 16 * (576 + 512) * 2
    assert fp8 - q_and_o == pytest.approx((bf16 - q_and_o) / 2)


@settings(max_examples=60, deadline=None)
@given(
    phase=st.sampled_from(["prefill", "decode"]),
    heads=st.sampled_from([1, 8, 16, 64, 128]),
    batch=st.integers(1, 512),
    kv=st.integers(1, 65536),
    absorbed=st.booleans(),
    kv_dtype=st.sampled_from(["bf16", "fp8"]),
)
def test_more_keys_never_make_it_faster(phase, heads, batch, kv, absorbed, kv_dtype):
    q = kv if phase == "prefill" else 1

    def t(keys, queries):
        return float(
            MLAAttention(phase, batch, queries, keys, heads, absorbed=absorbed, kv_dtype=kv_dtype).time(H100)
        )

    assert t(kv, q) > 0 and np.isfinite(t(kv, q))
    assert t(kv + 64, q + 64 if phase == "prefill" else q) >= t(kv, q) * (1 - 1e-9)


def test_a_kernel_without_split_kv_leaves_small_batches_of_long_contexts_slow():
    op = MLAAttention("decode", 1, 1, 131072, 128)
    split = float(op.time(H100))
    alone = float(op.time(with_fitted(H100, {"attention.mla.decode_kv_splits": 1.0})))
    assert alone > 20 * split  # two head tiles' CTAs out of 132 SMs
    big = MLAAttention("decode", 1024, 1, 4096, 128)
    assert float(big.time(with_fitted(H100, {"attention.mla.decode_kv_splits": 1.0}))) == pytest.approx(
        float(big.time(H100))
    )  # enough sequences fill the SMs anyway


def test_bad_phase_is_one_clear_error():
    with pytest.raises(ValueError, match="phase"):
        MLAAttention("verify", 1, 1, 1, 1)  # type: ignore[arg-type]
