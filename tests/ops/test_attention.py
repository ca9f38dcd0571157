import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.ops import Attention, kernel_time, visible_keys


def _brute(q, kv, window):
    return sum(min(p + 1, window) if window else p + 1 for p in range(kv - q, kv))


@settings(max_examples=300, deadline=None)
@given(kv=st.integers(1, 3000), data=st.data(), window=st.one_of(st.none(), st.integers(1, 4000)))
def test_visible_keys_matches_brute_force(kv, data, window):
    q = data.draw(st.integers(1, kv))
    assert visible_keys(q, kv, window) == _brute(q, kv, window)


def test_bidirectional_attention_sees_everything():
    assert visible_keys(32, 1000, causal=False) == 32 * 1000


def _prefill(seq, window=None, batch=1):
    return Attention("prefill", batch, seq, seq, 32, 8, 128, window=window)


def test_causal_prefill_flops_are_half_of_full():
    op = _prefill(8192)
    full = 4 * 32 * 128 * 8192 * 8192
    assert op.cost().flops == pytest.approx(full / 2, rel=1e-3)


def test_sliding_window_caps_prefill_time_growth(h100):
    full = [kernel_time(h100, _prefill(s)) for s in (4096, 8192, 16384)]
    swa = [kernel_time(h100, _prefill(s, window=1024)) for s in (4096, 8192, 16384)]
    assert full[2] / full[1] > 3.5  # quadratic
    assert swa[2] / swa[1] < 2.2  # linear once past the window
    assert all(s < f for s, f in zip(swa, full, strict=True))


def test_decode_reads_the_whole_kv_cache_once(h100):
    op = Attention("decode", 16, 1, 4096, 32, 8, 128)
    kv = 2 * 16 * 4096 * 8 * 128 * 2
    assert op.cost().bytes >= kv
    assert op.bound(h100) == "memory"
    windowed = Attention("decode", 16, 1, 4096, 32, 8, 128, window=128)
    assert windowed.cost().bytes < kv / 16


@settings(max_examples=100, deadline=None)
@given(b=st.integers(1, 256), ctx=st.integers(1, 65536), extra=st.integers(1, 4096))
def test_decode_time_non_decreasing_in_context_and_batch(h100, b, ctx, extra):
    base = kernel_time(h100, Attention("decode", b, 1, ctx, 32, 8, 128))
    assert kernel_time(h100, Attention("decode", b, 1, ctx + extra, 32, 8, 128)) >= base
    assert kernel_time(h100, Attention("decode", b + extra, 1, ctx, 32, 8, 128)) >= base


def test_empty_batch_costs_nothing(h100):
    assert kernel_time(h100, Attention("decode", 0, 1, 100, 32, 8, 128)) == 0.0
    assert np.all(kernel_time(h100, Attention("prefill", np.array([0, 1]), 64, 64, 8, 8, 64)) >= 0)


def test_bad_phase_and_heads_are_rejected():
    with pytest.raises(ValueError, match="phase"):
        Attention("verify", 1, 1, 10, 8, 8, 64)
    with pytest.raises(ValueError, match="multiple"):
        Attention("decode", 1, 1, 10, 8, 3, 64)


def test_softmax_cost_makes_small_head_dims_slower_per_flop(h100):
    """Exponentials run on the special-function units: per FLOP, head dim 64 is slower than 256
    (aiconfigurator-core H100 tables), and head dim 128 prices as it did before the term."""
    def per_flop(head_dim):
        op = Attention("prefill", 4, 4096, 4096, 32, 8, head_dim, impl="fa3")
        return kernel_time(h100, op) / op.cost().flops

    assert per_flop(64) > 1.3 * per_flop(128) > 1.3 * 1.1 * per_flop(256)


def test_softmax_cost_of_zero_is_the_old_model(h100):
    data = h100.model_dump()
    data["efficiency"]["attention"]["softmax_cost_flops"] = 0.0
    plain = type(h100).model_validate(data)
    op = Attention("prefill", 1, 2048, 2048, 32, 8, 128)
    with_term = kernel_time(h100, op)
    assert kernel_time(plain, op) < with_term
    assert kernel_time(plain, Attention("prefill", 1, 0, 0, 32, 8, 128)) == 0.0


@given(batch=st.integers(1, 4096), kv=st.integers(1, 64))
def test_decode_work_items_cost_per_sequence_and_kv_head(h100, batch, kv):
    data = h100.model_dump()
    data["efficiency"]["attention"]["decode_item_s"] = 5e-8
    itemised = type(h100).model_validate(data)
    op = Attention("decode", batch, 1, kv, 32, 8, 128)
    extra = kernel_time(itemised, op) - kernel_time(h100, op)
    assert extra <= 5e-8 * batch * 8 + 1e-12
    if batch >= 512:  # large batches of short contexts: the work items dominate
        assert extra > 0


def _with(hw, section: str, **figures):
    data = hw.model_dump()
    data["efficiency"][section] = {**data["efficiency"][section], **figures}
    return type(hw).model_validate(data)


def test_window_lower_edge_blocks_are_paid_for(h100):
    """A sliding window's lower edge cuts a key block per query tile, computed in full like the
    diagonal: at a window of 128 that is a third more work than the visible keys."""
    tile = h100.efficiency.attention.tile_q
    windowed = _prefill(8192, window=128, batch=4)
    t = kernel_time(h100, windowed)
    visible = visible_keys(8192, 8192, 128)
    padded = visible + 8192 * tile / 2 + (8192 - 128) * tile / 2
    flops = 4 * 128 * 32 * 4 * padded
    assert t > flops / h100.peak_flops("bf16")
    assert kernel_time(h100, _prefill(128, window=128)) == kernel_time(h100, _prefill(128))  # no edge yet


def test_short_prompts_pack_grouped_query_heads_into_one_tile(h100):
    """One new token of 64 query heads over 1 KV head fills a single 128-row tile (FA3 pack_gqa),
    so it costs about what 1 query head does, not 64 padded tiles."""
    packed = Attention("prefill", 64, 1, 1, 64, 1, 128)
    lone = Attention("prefill", 64, 1, 1, 1, 1, 128)
    assert kernel_time(h100, packed) < 2 * kernel_time(h100, lone)
    # long prompts fill their tiles either way: grouping the KV heads changes the tiling nothing
    grouped = Attention("prefill", 1, 4096, 4096, 64, 1, 128)
    assert kernel_time(h100, grouped) == pytest.approx(
        kernel_time(h100, Attention("prefill", 1, 4096, 4096, 64, 64, 128)), rel=0.02)


@pytest.mark.parametrize("phase,q,kv", [("decode", 1, 8192), ("prefill", 2048, 2048)])
def test_fp8_kv_figures_apply_only_to_an_fp8_cache(h100, phase, q, kv):
    slow = _with(h100, "attention", kv_fp8={"prefill_e": 0.2, "decode_e_bw": 0.2, "kv_half": 2000.0,
                                            "decode_item_s": 1e-7, "query_quant_e_bw": 0.05})
    bf16 = Attention(phase, 32, q, kv, 32, 8, 128)
    fp8 = Attention(phase, 32, q, kv, 32, 8, 128, kv_dtype="fp8")
    assert kernel_time(slow, bf16) == kernel_time(h100, bf16)
    assert kernel_time(slow, fp8) > 1.5 * kernel_time(h100, fp8)


def test_fp8_query_pass_costs_a_kernel_and_its_bytes(h100):
    op = Attention("prefill", 8, 1024, 1024, 32, 8, 128, kv_dtype="fp8")
    passed = _with(h100, "attention", kv_fp8={"query_quant_e_bw": 0.5})
    moved = 8 * 1024 * 32 * 128 * 3.0  # bf16 read, fp8 written
    extra = h100.efficiency.memory.t_fixed_s + moved / (h100.memory.peak_bw_bytes_per_s * 0.5)
    assert kernel_time(passed, op) == pytest.approx(kernel_time(h100, op) + extra, rel=1e-9)
    fp8_query = Attention("prefill", 8, 1024, 1024, 32, 8, 128, dtype="fp8", kv_dtype="fp8")
    assert kernel_time(passed, fp8_query) == kernel_time(h100, fp8_query)  # already fp8: no pass


def _grouped_limit(hw, **figures):
    """`hw` whose default decode kernel serves at most 32 query heads per KV-head pass."""
    return _with(hw, "attention", decode_max_group=32, **figures)


@settings(max_examples=50, deadline=None)
@given(batch=st.integers(1, 256), kv=st.integers(1, 32768), group=st.sampled_from([2, 8, 16, 32]))
def test_groups_within_the_limit_price_as_one_pass_per_kv_head(h100, batch, kv, group):
    op = Attention("decode", batch, 1, kv, 4 * group, 4, 128)
    limited = _grouped_limit(h100, decode_head_item_s=1e-7, decode_reread_e_bw=0.1)
    assert kernel_time(limited, op) == kernel_time(h100, op)


@settings(max_examples=50, deadline=None)
@given(batch=st.integers(4, 64), kv=st.integers(8192, 32768), group=st.sampled_from([48, 64, 128]))
def test_groups_past_the_limit_reread_their_kv_head_per_query_head(h100, batch, kv, group):
    """TensorRT-LLM's XQA takes at most 32 query heads per KV head; a larger group falls back to
    masked MHA, which streams the KV head once per query head: far slower than one shared pass,
    and slower still the slower the re-reads."""
    op = Attention("decode", batch, 1, kv, group, 1, 128)
    fast, slow = (_grouped_limit(h100, decode_reread_e_bw=e) for e in (2.0, 0.5))
    shared = kernel_time(h100, op)
    assert kernel_time(fast, op) > 4 * shared
    assert kernel_time(slow, op) > 3 * kernel_time(fast, op)
    rereads = batch * kv * (group - 1) * 2 * 128 * 2.0
    assert kernel_time(fast, op) > rereads / (h100.memory.peak_bw_bytes_per_s * 2.0)


def test_mha_runs_the_per_head_kernel_with_its_own_item_cost(h100):
    """Plain MHA (group 1) has no group to share a pass: with a per-head kernel it pays
    decode_head_item_s per (sequence, head), not decode_item_s."""
    op = Attention("decode", 1024, 1, 16, 32, 32, 128)
    base = _with(h100, "attention", decode_item_s=4e-8)
    cheap = _grouped_limit(base.model_copy(), decode_item_s=4e-8, decode_head_item_s=1e-8)
    assert kernel_time(cheap, op) < kernel_time(base, op) - 1024 * 32 * 2.5e-8
    grouped = Attention("decode", 1024, 1, 16, 32, 8, 128)  # within the limit: unchanged
    assert kernel_time(cheap, grouped) == kernel_time(base, grouped)


def test_fp8_cache_saves_the_per_head_kernel_no_rereads(h100):
    """The per-head kernel converts fp8 keys element by element: its re-reads cost what bf16's do."""
    limited = _grouped_limit(h100, decode_reread_e_bw=1.5)
    bf16 = Attention("decode", 8, 1, 16384, 64, 1, 128)
    fp8 = Attention("decode", 8, 1, 16384, 64, 1, 128, kv_dtype="fp8")
    assert kernel_time(limited, fp8) == pytest.approx(kernel_time(limited, bf16), rel=0.02)


def test_mla_shaped_attention_never_takes_the_per_head_path(h100):
    limited = _grouped_limit(h100, decode_reread_e_bw=0.1)
    mla = Attention("decode", 8, 1, 8192, 128, 1, 576, v_head_dim=512, shared_kv=True)
    assert kernel_time(limited, mla) == kernel_time(h100, mla)


def test_window_decode_pays_for_split_ctas_over_the_whole_history(h100):
    """XQA splits the whole history (a CTA per 128 tokens, up to 8 waves), so a 128-token window
    over 64k tokens costs more than over 256, by at most the capped CTA count."""
    split = _grouped_limit(h100, decode_split_cta_s=2e-8)
    short, long = (Attention("decode", 16, 1, kv, 32, 8, 64, window=128) for kv in (256, 65536))
    extra = kernel_time(split, long) - kernel_time(split, short)
    assert 0 < extra <= 2e-8 * 8 * h100.compute.sm_count + 1e-12
    assert kernel_time(h100, long) == pytest.approx(kernel_time(h100, short), rel=1e-6)
    fp8 = Attention("decode", 16, 1, 65536, 32, 8, 64, window=128, kv_dtype="fp8")
    # an fp8 cache has its own figure (sm90's QGMMA kernel pays none)
    fp8_split = _with(split, "attention", kv_fp8={"decode_split_cta_s": 2e-8})
    no_split_fp8 = _with(split, "attention", kv_fp8={"decode_split_cta_s": 0.0})
    assert kernel_time(no_split_fp8, fp8) < kernel_time(fp8_split, fp8)
