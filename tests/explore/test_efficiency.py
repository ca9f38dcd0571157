"""Request-level efficiency: a faster model that writes longer traces is not counted as faster."""

import pytest

import perfsim
from perfsim.explore.efficiency import request_efficiency
from perfsim.sim import Fixed


def test_longer_traces_raise_tokens_per_s_but_lower_requests_per_s():
    frame = request_efficiency({"low effort": ("qwen3-8b", 300), "high effort": ("qwen3-8b", 1200)},
                               "h100-sxm", concurrency=16, prompt_len=256, num_requests=64)
    low, high = frame.iloc[0], frame.iloc[1]
    assert high.mean_output_tokens == 4 * low.mean_output_tokens
    assert high.requests_per_s < 0.5 * low.requests_per_s  # each request costs ~4x the decode work
    assert high.requests_per_s_vs_first == pytest.approx(high.requests_per_s / low.requests_per_s)


def test_faster_model_with_longer_answers_can_lose_per_request():
    frame = request_efficiency({"8b, short": ("qwen3-8b", 400), "1.7b, verbose": ("qwen3-1.7b", 2000)},
                               "h100-sxm", concurrency=8, prompt_len=256, num_requests=48)
    fast = frame.set_index("candidate").loc["1.7b, verbose"]
    assert fast.tokens_per_s_vs_first > 1 and fast.requests_per_s_vs_first < 1


def test_rows_match_the_serving_simulator():
    frame = request_efficiency({"a": ("qwen3-0.6b", "100-300")}, "h100-sxm", concurrency=4, prompt_len=128,
                               num_requests=32, seed=5)
    workload = perfsim.ClosedLoop(4, prompt_len=Fixed(128), output_len=perfsim.Uniform(100, 300),
                                  num_requests=32)
    summary = perfsim.simulate_serving("qwen3-0.6b", "h100-sxm", workload, seed=5).summary()
    assert frame.requests_per_s[0] == summary["requests_per_s"]
    assert frame.tokens_per_s[0] == summary["throughput_tok_s"]


def test_bad_candidates():
    with pytest.raises(perfsim.PerfsimInputError, match="at least one candidate"):
        request_efficiency({}, "h100-sxm")
    with pytest.raises(perfsim.PerfsimInputError, match="x output lengths 'long'"):
        request_efficiency({"x": ("qwen3-0.6b", "long")}, "h100-sxm")
