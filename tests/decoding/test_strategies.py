import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.decoding import (
    Autoregressive,
    BlockDiffusion,
    Speculative,
    TiDAR,
    make_decoding,
    registered_decodings,
)

N = 200_000


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 8), alpha=st.floats(0.0, 0.99))
def test_closed_form_matches_formula_and_monte_carlo(k, alpha):
    spec = Speculative(k=k, acceptance=alpha)
    closed = (1 - alpha ** (k + 1)) / (1 - alpha)
    assert spec.expected_tokens() == pytest.approx(closed, rel=1e-9, abs=1e-12)
    samples = spec.sample_tokens(np.random.default_rng(0), N)
    assert samples.min() >= 1 and samples.max() <= k + 1
    assert samples.mean() == pytest.approx(closed, abs=4 * samples.std() / np.sqrt(N) + 5 / N)  # rare events


def test_per_position_acceptance_matches_monte_carlo():
    spec = Speculative(k=3, acceptance=(0.9, 0.7, 0.4))
    assert spec.expected_tokens() == pytest.approx(1 + 0.9 + 0.9 * 0.7 + 0.9 * 0.7 * 0.4)
    samples = spec.sample_tokens(np.random.default_rng(1), N)
    assert samples.mean() == pytest.approx(spec.expected_tokens(), abs=0.01)


@settings(max_examples=20, deadline=None)
@given(probs=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6))
def test_sampled_tokens_follow_the_exact_distribution(probs):
    """P(1 + j tokens) = p_1 ... p_j (1 - p_{j+1}): each draft is accepted while all before it
    were, whatever the sampling method (inversion from one uniform per verify)."""
    spec = Speculative(k=len(probs), acceptance=tuple(probs))
    survival = np.concatenate([[1.0], np.cumprod(probs)])
    pmf = survival - np.append(survival[1:], 0.0)
    counts = np.bincount(spec.sample_tokens(np.random.default_rng(5), N) - 1, minlength=len(probs) + 1)
    assert np.all(np.abs(counts / N - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / N) + 1e-9)


def test_measured_mean_is_reproduced():
    spec = Speculative(k=3, mean_accepted_tokens=2.6)
    assert spec.expected_tokens() == pytest.approx(2.6, rel=1e-6)
    assert spec.sample_tokens(np.random.default_rng(2), N).mean() == pytest.approx(2.6, abs=0.01)


@pytest.mark.parametrize("strategy", [
    BlockDiffusion(tokens_per_step=2.7), BlockDiffusion(steps_per_block=8),
    BlockDiffusion(distribution=((1, 0.2), (4, 0.5), (8, 0.3))), TiDAR(16, 7.46),
])
def test_sampled_tokens_match_expected(strategy):
    samples = strategy.sample_tokens(np.random.default_rng(3), N)
    assert samples.mean() == pytest.approx(strategy.expected_tokens(), abs=0.02)


def test_speculative_speedup_shrinks_with_batch_and_turns_negative():
    """SPEED-Bench finding: verification becomes compute-bound, so speculation stops paying."""
    spec = Speculative(k=4, acceptance=0.7, draft="qwen3-0.6b")
    speedups = []
    for batch in (1, 16, 64, 256):
        ar = perfsim.generate("qwen3-8b", "h100-sxm", batch, 512, 256, check_memory=False)
        sd = perfsim.generate("qwen3-8b", "h100-sxm", batch, 512, 256, spec, check_memory=False)
        speedups.append(ar.e2e_s / sd.e2e_s)
    assert speedups[0] > 1.2
    assert all(a > b for a, b in zip(speedups, speedups[1:], strict=False))
    assert speedups[-1] < 1.0


def test_optimal_draft_length_shrinks_with_batch():
    def best_k(batch):
        times = {}
        for k in range(1, 9):
            r = perfsim.generate("llama-3.1-8b", "h100-sxm", batch, 512, 256,
                                 Speculative(k=k, acceptance=0.8), check_memory=False)
            times[k] = r.e2e_s
        return min(times, key=times.get)

    assert best_k(1) > best_k(128)


def test_tidar_forward_costs_more_than_ar_but_yields_more():
    ar = perfsim.generate("qwen3-8b", "h100-sxm", 1, 512, 512)
    tidar = perfsim.generate("qwen3-8b", "h100-sxm", 1, 512, 512, TiDAR(16, 8.0))
    ratio = tidar.tpot_s * 8.0 / ar.tpot_s  # forward time relative to an AR step
    assert 1.0 < ratio < 2.0
    assert tidar.tokens_per_s > 3 * ar.tokens_per_s


def test_diffusion_without_cache_is_much_slower_than_with_block_cache():
    cached = perfsim.generate("qwen2.5-7b", "a100-sxm-80gb", 1, 1024, 256,
                              BlockDiffusion(tokens_per_step=3))
    full = perfsim.generate("qwen2.5-7b", "a100-sxm-80gb", 1, 1024, 256,
                            BlockDiffusion(tokens_per_step=3, kv_cache=False))
    assert full.e2e_s > 3 * cached.e2e_s


def test_request_level_rate_counts_requests_not_tokens():
    r = perfsim.generate("qwen3-8b", "h100-sxm", 8, 512, 1000)
    assert r.requests_per_s == pytest.approx(8 / r.e2e_s)
    assert r.tokens_per_s == pytest.approx(r.requests_per_s * 1000)


@pytest.mark.parametrize("factory, needle", [
    (lambda: Speculative(k=0, acceptance=0.5), "k .* must be an integer from 1 to 64"),
    (lambda: Speculative(k=2, acceptance=1.5), "in 0..1"),
    (lambda: Speculative(k=2), "exactly one of acceptance"),
    (lambda: Speculative(k=2, mean_accepted_tokens=4), r"in 1..3"),
    (lambda: Speculative(k=2, acceptance=(0.5,)), "needs k=2"),
    (lambda: BlockDiffusion(tokens_per_step=9), r"in 1..8"),
    (lambda: BlockDiffusion(sub_block_size=64), "sub_block_size <= block_size"),
    (lambda: TiDAR(16, 30.0), r"in 1..17"),
    (lambda: make_decoding("medusa"), "unknown decoding 'medusa'"),
])
def test_bad_decoding_inputs_are_one_sentence(factory, needle):
    with pytest.raises(perfsim.PerfsimInputError, match=needle):
        factory().expected_tokens()


def test_draft_model_vocab_must_match():
    with pytest.raises(perfsim.PerfsimInputError, match="vocab"):
        mismatched = Speculative(k=2, acceptance=0.5, draft="llama-3.1-8b")
        perfsim.generate("qwen3-8b", "h100-sxm", 1, 128, 16, mismatched)


def test_registry_and_autoregressive_default():
    assert {"autoregressive", "speculative", "block_diffusion", "tidar"} <= set(registered_decodings())
    assert isinstance(make_decoding(None), Autoregressive)
    base = perfsim.generate("qwen3-8b", "h100-sxm", 2, 256, 64)
    same = perfsim.generate("qwen3-8b", "h100-sxm", 2, 256, 64, "autoregressive")
    assert base.e2e_s == same.e2e_s


@settings(max_examples=15, deadline=None)
@given(k=st.integers(1, 6), alpha=st.floats(0.05, 0.95), width=st.integers(1, 6))
def test_tree_drafts_accept_a_level_when_any_candidate_is_right(k, alpha, width):
    tree = Speculative(k=k, acceptance=alpha, tree_width=width)
    level = 1 - (1 - alpha) ** width
    assert tree.expected_tokens() == pytest.approx(1 + sum(level**i for i in range(1, k + 1)), rel=1e-9)
    samples = tree.sample_tokens(np.random.default_rng(4), 50_000)
    tolerance = 4 * samples.std() / np.sqrt(50_000) + 1e-3
    assert samples.mean() == pytest.approx(tree.expected_tokens(), abs=tolerance)
    assert tree.target_step(1, 100).tokens == k * width + 1


def test_width_one_tree_is_the_chain():
    chain, tree = Speculative(k=4, acceptance=0.6), Speculative(k=4, acceptance=0.6, tree_width=1)
    assert chain == tree and chain.describe() == tree.describe()


def test_tree_helps_at_batch_one_and_hurts_at_large_batch():
    chain = Speculative(k=4, acceptance=0.5, draft="eagle")
    tree = Speculative(k=4, acceptance=0.5, draft="eagle", tree_width=4)
    gain = {}
    for batch in (1, 256):
        ar = perfsim.generate("qwen3-8b", "h100-sxm", batch, 512, 256, check_memory=False).e2e_s
        gain[batch] = [ar / perfsim.generate("qwen3-8b", "h100-sxm", batch, 512, 256, s,
                                             check_memory=False).e2e_s for s in (chain, tree)]
    assert gain[1][1] > gain[1][0] > 1  # 17 verify slots are free when memory-bound
    assert gain[256][1] < gain[256][0]  # and cost compute when the batch is large
    assert "tree width 4" in tree.describe()


def test_bad_tree_width():
    with pytest.raises(perfsim.PerfsimInputError, match=r"tree_width must be an integer in 1..64"):
        Speculative(k=3, acceptance=0.5, tree_width=0)
