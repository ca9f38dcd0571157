"""Gated DeltaNet prefill: grouped key heads, the state cache, and the per-chain start cost."""

import pytest

from perfsim.calibration.fit import with_fitted
from perfsim.ops import LinearAttention, kernel_time


def test_shared_key_heads_read_fewer_bytes_same_flops():
    full = LinearAttention("prefill", 2, 1024, 32, 128, 128)
    grouped = LinearAttention("prefill", 2, 1024, 32, 128, 128, num_k_heads=8)
    tokens = 2 * 1024
    assert full.cost().bytes - grouped.cost().bytes == pytest.approx(tokens * 2 * (32 - 8) * 128 * 2)
    assert full.cost().flops == grouped.cost().flops


def test_a_scan_without_state_cache_moves_no_state():
    with_state = LinearAttention("prefill", 4, 64, 16, 128, 128)
    without = LinearAttention("prefill", 4, 64, 16, 128, 128, carries_state=False)
    state = with_state.state_bytes_per_seq()
    assert with_state.cost().bytes - without.cost().bytes == pytest.approx(2 * 4 * state)


def test_chain_setup_adds_chains_per_sm(h100):
    op = LinearAttention("prefill", 64, 1, 32, 128, 128, carries_state=False, prefill_kernel="fused")
    setup_s = 1e-5
    h100 = with_fitted(h100, {"scan.chunk_step_s": 0.0})  # the start cost alone
    hw = with_fitted(h100, {"scan.chain_setup_s": setup_s})
    # a one-token prompt per chain: the start cost, paid per chain, is the longest term
    fixed = h100.efficiency_in_use.scan.t_fixed_s * op.kernel_count
    assert kernel_time(hw, op) - fixed == pytest.approx(64 * 32 * setup_s / h100.compute.sm_count, rel=0.05)
    assert kernel_time(hw, op) > kernel_time(h100, op)
    decode = LinearAttention("decode", 64, 1, 32, 128, 128)
    assert kernel_time(hw, decode) == kernel_time(h100, decode)


def test_fused_prefill_keeps_chunk_states_on_chip_and_takes_the_larger_term(h100):
    chunked = LinearAttention("prefill", 8, 4096, 32, 128, 128)
    fused = LinearAttention("prefill", 8, 4096, 32, 128, 128, prefill_kernel="fused")
    chunks = 8 * 4096 / 64
    assert chunked.cost().bytes - fused.cost().bytes == pytest.approx(2 * chunks * 32 * 128 * 128 * 2)
    # fla's pipeline: compute and memory times add; one fused kernel: the larger of them
    assert kernel_time(h100, fused) < kernel_time(h100, chunked)


def test_prior_chunk_step_is_one_chunks_state_update_on_one_sm(h100):
    """Without a fitted step, a lone long chain waits on 2 x 2 C d_k d_v FLOPs per chunk on one SM."""
    scan = h100.efficiency_in_use.scan
    assert scan.chunk_step_s is None
    lone = LinearAttention("prefill", 1, 32768, 1, 128, 128, prefill_kernel="fused")
    per_sm = h100.peak_flops("bf16") * scan.e_flops / h100.compute.sm_count
    floor = 512 * 4 * 64 * 128 * 128 / per_sm
    assert kernel_time(h100, lone) == pytest.approx(scan.t_fixed_s * lone.kernel_count + floor, rel=0.02)
    off = with_fitted(h100, {"scan.chunk_step_s": 0.0})
    assert kernel_time(off, lone) < 0.5 * kernel_time(h100, lone)
