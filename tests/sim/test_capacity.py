"""Capacity search: the highest Poisson rate that meets the SLOs, by bisection."""

import pytest

import perfsim

LLAMA = "llama-3.1-8b"

SLO = {"ttft_p99_s": 1.0, "tpot_p99_s": 0.06}


@pytest.fixture(scope="module")
def capacity():
    return perfsim.max_rate_under_slo(LLAMA, "a10g", slo=SLO, prompt_len=512, output_len=64, num_requests=200)


def test_capacity_meets_slo_and_next_rate_fails(capacity):
    rate = capacity.rate_req_s
    assert rate > 0.05
    assert all(capacity.summary[k] <= bound for k, bound in SLO.items())
    assert (rate, True) in capacity.probes
    failing = [r for r, ok in capacity.probes if not ok]
    assert any(rate < r <= 1.1 * rate for r in failing)
    # every probe at or below the answer passed, every failing probe is above it
    assert all(ok for r, ok in capacity.probes if r <= rate)
    assert min(failing) > rate
    assert capacity.slo == SLO


def test_capacity_answer_reproduces(capacity):
    workload = perfsim.Poisson(capacity.rate_req_s, num_requests=200, prompt_len=512, output_len=64)
    summary = perfsim.simulate_serving(LLAMA, "a10g", workload).summary()
    assert summary == capacity.summary


def test_capacity_when_even_the_lowest_rate_fails():
    result = perfsim.max_rate_under_slo(LLAMA, "a10g", slo={"ttft_p99_s": 1e-6}, prompt_len=512,
                                        output_len=16, num_requests=20)
    assert result.rate_req_s == 0.0 and result.summary is None
    assert result.probes == ((0.05, False),)


@pytest.mark.parametrize("kwargs, match", [
    (dict(slo={}), "slo needs at least one bound"),
    (dict(slo={"ttft_p99": 1.0}), r"slo key\(s\) ttft_p99 are not summary metrics"),
    (dict(slo=SLO, min_rate=2.0, max_rate=1.0), "need 0 < min_rate < max_rate"),
    (dict(slo=SLO, min_rate=0.0), "need 0 < min_rate < max_rate"),
    (dict(slo=SLO, rel_tol=0.0), r"rel_tol must be in \(0, 1\)"),
])
def test_capacity_input_errors(kwargs, match):
    with pytest.raises(perfsim.PerfsimInputError, match=match):
        perfsim.max_rate_under_slo(LLAMA, "a10g", prompt_len=64, output_len=8, num_requests=10, **kwargs)
