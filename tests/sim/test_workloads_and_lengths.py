import numpy as np
import pandas as pd
import pytest
import simpy

import perfsim
from perfsim.sim import Empirical, Fixed, LogNormal, Uniform, make_workload, registered_workloads
from perfsim.sim.lengths import as_length_dist

N = 50_000


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- length distributions


def test_fixed_samples_one_value():
    dist = Fixed(37)
    samples = dist.sample(_rng(), 1000)
    assert samples.dtype == np.int64
    assert (samples == 37).all()
    assert dist.mean() == 37.0 and dist.max_tokens == 37


@pytest.mark.parametrize("low, high", [(1, 1), (1, 2), (5, 500), (100, 4096)])
def test_uniform_is_inclusive_and_has_the_stated_mean(low, high):
    dist = Uniform(low, high)
    samples = dist.sample(_rng(1), N)
    assert samples.min() == low and samples.max() == high  # both ends reached over many draws
    assert dist.max_tokens == high
    assert samples.mean() == pytest.approx(dist.mean(), abs=4 * samples.std() / np.sqrt(N) + 1e-9)


@pytest.mark.parametrize("mean, sigma, max_tokens", [(200, 0.5, 4000), (1000, 1.0, 100_000), (50, 0.2, 80)])
def test_lognormal_stays_in_bounds(mean, sigma, max_tokens):
    dist = LogNormal(mean, sigma, max_tokens)
    samples = dist.sample(_rng(2), N)
    assert samples.dtype == np.int64
    assert samples.min() >= 1 and samples.max() <= max_tokens


@pytest.mark.parametrize("mean, sigma", [(200, 0.5), (1000, 1.0), (30, 0.3)])
def test_lognormal_mean_is_close_when_the_range_covers_the_bulk(mean, sigma):
    dist = LogNormal(mean, sigma, max_tokens=mean * 200)
    samples = dist.sample(_rng(3), N)
    assert samples.mean() == pytest.approx(mean, rel=0.03)
    assert dist.mean() == mean


def test_lognormal_min_tokens_is_respected():
    samples = LogNormal(100, 1.0, 1000, min_tokens=40).sample(_rng(4), N)
    assert samples.min() >= 40 and samples.max() <= 1000


def test_empirical_resamples_only_given_values():
    dist = Empirical((3, 7, 7, 100))
    samples = dist.sample(_rng(5), N)
    assert set(np.unique(samples).tolist()) == {3, 7, 100}
    assert dist.max_tokens == 100
    assert dist.mean() == pytest.approx(29.25)
    assert samples.mean() == pytest.approx(29.25, rel=0.03)


def test_same_generator_state_gives_same_samples():
    dist = LogNormal(300, 0.8, 5000)
    assert (dist.sample(_rng(9), 100) == dist.sample(_rng(9), 100)).all()


@pytest.mark.parametrize("make, match", [
    (lambda: Fixed(0), "tokens must be a positive integer"),
    (lambda: Fixed(2**63), "tokens must be a positive integer up to 16,777,216"),
    (lambda: Uniform(1, 2**40), "high must be a positive integer up to"),
    (lambda: LogNormal(10, 0.5, 2**40), "max_tokens must be a positive integer up to"),
    (lambda: Fixed(-3), "tokens must be a positive integer"),
    (lambda: Fixed(2.5), "tokens must be a positive integer"),
    (lambda: Uniform(0, 10), "low must be a positive integer"),
    (lambda: Uniform(10, 5), "low <= high"),
    (lambda: LogNormal(100, 0.0, 1000), "sigma must be in"),
    (lambda: LogNormal(100, 3.5, 1000), "sigma must be in"),
    (lambda: LogNormal(2000, 0.5, 1000), "mean_tokens 2000 must lie in"),
    (lambda: LogNormal(10, 0.5, 1000, min_tokens=20), "must lie in"),
    (lambda: LogNormal(10, 0.5, 1000, min_tokens=0), "min_tokens must be a positive integer"),
    (lambda: Empirical(()), "at least one value"),
    (lambda: Empirical((5, 0, 3)), "all >= 1"),
])
def test_bad_length_parameters_raise_one_clear_error(make, match):
    with pytest.raises(perfsim.PerfsimInputError, match=match):
        make()


def test_lognormal_whose_range_is_almost_never_hit_raises():
    dist = LogNormal(1000, 3.0, 1000, min_tokens=999)
    with pytest.raises(perfsim.PerfsimInputError, match="rarely falls in"):
        dist.sample(_rng(), 1000)


def test_as_length_dist_accepts_ints_pairs_and_distributions():
    assert as_length_dist(12, "prompt_len") == Fixed(12)
    assert as_length_dist(np.int64(12), "prompt_len") == Fixed(12)
    assert as_length_dist((3, 9), "prompt_len") == Uniform(3, 9)
    assert as_length_dist([3, 9], "prompt_len") == Uniform(3, 9)
    dist = LogNormal(100, 0.5, 1000)
    assert as_length_dist(dist, "x") is dist
    with pytest.raises(perfsim.PerfsimInputError, match="output_len must be an int"):
        as_length_dist("long", "output_len")
    with pytest.raises(perfsim.PerfsimInputError, match="prompt_len must be an int"):
        as_length_dist((1, 2, 3), "prompt_len")


# --------------------------------------------------------------------------- Empirical.from_file


def test_empirical_from_file_one_per_line(tmp_path):
    path = tmp_path / "lengths.txt"
    path.write_text("12\n  40\n\n7\n")
    assert Empirical.from_file(path).values == (12, 40, 7)


def test_empirical_from_csv_column(tmp_path):
    path = tmp_path / "lengths.csv"
    pd.DataFrame({"effort": ["low", "high", "high"], "output": [100, 2000, 3500]}).to_csv(path, index=False)
    dist = Empirical.from_file(path, column="output")
    assert dist.values == (100, 2000, 3500)
    assert dist.max_tokens == 3500


def test_empirical_from_missing_file(tmp_path):
    with pytest.raises(perfsim.PerfsimInputError, match="length file not found"):
        Empirical.from_file(tmp_path / "nope.txt")


def test_empirical_from_file_missing_column_lists_columns(tmp_path):
    path = tmp_path / "lengths.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(path, index=False)
    with pytest.raises(perfsim.PerfsimInputError, match=r"no column 'c'; columns: a, b"):
        Empirical.from_file(path, column="c")


def test_empirical_from_file_with_text_line(tmp_path):
    path = tmp_path / "lengths.txt"
    path.write_text("12\nlots\n")
    with pytest.raises(perfsim.PerfsimInputError, match="must all be integers >= 1"):
        Empirical.from_file(path)


def test_empirical_from_file_with_zero_length(tmp_path):
    path = tmp_path / "lengths.txt"
    path.write_text("12\n0\n")
    with pytest.raises(perfsim.PerfsimInputError, match="all >= 1"):
        Empirical.from_file(path)


def test_empirical_from_csv_column_with_blank_cell(tmp_path):
    path = tmp_path / "lengths.csv"
    path.write_text("id,output\n1,100\n2,\n3,200\n")
    with pytest.raises(perfsim.PerfsimInputError):
        Empirical.from_file(path, column="output")


def test_empirical_from_file_rejects_fractional_lengths(tmp_path):
    path = tmp_path / "lengths.txt"
    path.write_text("2.7\n3\n")
    with pytest.raises(perfsim.PerfsimInputError):
        Empirical.from_file(path)


# --------------------------------------------------------------------------- open-loop arrivals


def _arrivals(workload, seed=0):
    """Run a workload alone and record what it submits."""
    env = simpy.Environment()
    got = []
    workload.start(env, lambda r: got.append((r.rid, r.arrival_s, r.prompt_len, r.output_len)),
                   np.random.default_rng(seed))
    env.run()
    return got


@pytest.mark.parametrize("rate", [0.5, 4.0, 200.0])
def test_poisson_mean_gap_is_one_over_rate(rate):
    got = _arrivals(perfsim.Poisson(rate, num_requests=4000, prompt_len=10, output_len=5))
    arrivals = np.array([a for _, a, _, _ in got])
    assert [rid for rid, *_ in got] == list(range(4000))
    gaps = np.diff(np.concatenate([[0.0], arrivals]))
    assert (gaps >= 0).all()
    assert gaps.mean() == pytest.approx(1 / rate, rel=0.06)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.1)  # exponential: cv = 1


@pytest.mark.parametrize("cv", [0.5, 1.0, 3.0])
def test_gamma_mean_gap_is_one_over_rate_with_the_given_cv(cv):
    rate = 5.0
    got = _arrivals(perfsim.Gamma(rate, cv=cv, num_requests=6000, prompt_len=10, output_len=5), seed=1)
    gaps = np.diff(np.concatenate([[0.0], [a for _, a, _, _ in got]]))
    assert gaps.mean() == pytest.approx(1 / rate, rel=0.1)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.2)


def test_open_loop_lengths_follow_the_given_distributions():
    got = _arrivals(perfsim.Poisson(100.0, num_requests=3000, prompt_len=(10, 20), output_len=Fixed(7)))
    prompts = np.array([p for *_, p, _ in got])
    assert prompts.min() >= 10 and prompts.max() <= 20
    assert prompts.mean() == pytest.approx(15, rel=0.03)
    assert {o for *_, o in got} == {7}


def test_workload_max_lengths():
    workload = perfsim.Poisson(1.0, prompt_len=(5, 900), output_len=LogNormal(50, 0.5, 700))
    assert workload.max_lengths() == (900, 1600)  # longest prompt, longest prompt + output
    assert perfsim.ClosedLoop(4, prompt_len=64, output_len=(1, 33)).max_lengths() == (64, 97)


@pytest.mark.parametrize("make, match", [
    (lambda: perfsim.Poisson(0.0), r"rate \(requests/s\) must be a number above 0"),
    (lambda: perfsim.Poisson(-1.0), r"rate \(requests/s\) must be a number above 0"),
    (lambda: perfsim.Poisson(float("nan")), r"rate \(requests/s\) must be a number above 0"),
    (lambda: perfsim.Poisson(1.0, num_requests=0), "num_requests must be an integer from 1 to"),
    (lambda: perfsim.Poisson(1.0, num_requests=2.5), "num_requests must be an integer from 1 to"),
    (lambda: perfsim.Gamma(1.0, cv=0.0), "gamma cv must be > 0"),
    (lambda: perfsim.Gamma(1.0, prompt_len="x"), "prompt_len must be an int"),
    (lambda: perfsim.ClosedLoop(0), "concurrency must be a positive integer"),
    (lambda: perfsim.ClosedLoop(2, num_requests=0), "num_requests must be a positive integer"),
    (lambda: perfsim.ClosedLoop(2, think_time_s=-1.0), "think_time_s must be >= 0"),
    (lambda: perfsim.ClosedLoop(2, output_len=(9, 3)), "low <= high"),
])
def test_bad_workload_parameters(make, match):
    with pytest.raises(perfsim.PerfsimInputError, match=match):
        make()


def test_closed_loop_submits_concurrency_requests_up_front():
    got = _arrivals(perfsim.ClosedLoop(3, prompt_len=10, output_len=5, num_requests=10))
    assert [rid for rid, *_ in got] == [0, 1, 2]  # the rest wait for completions
    assert {a for _, a, _, _ in got} == {0.0}


# --------------------------------------------------------------------------- Trace


def _write_trace(tmp_path, text, name="trace.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_trace_replays_rows_in_order(tmp_path):
    path = _write_trace(tmp_path, "output_tokens,arrival_s,prompt_tokens,user\n5,0.0,100,a\n7,0.5,20,b\n"
                                  "1,0.5,3,c\n9,2.25,64,d\n")
    trace = perfsim.Trace(path)
    assert trace.num_requests == 4
    assert trace.max_lengths() == (100, 105)  # per-row totals: 105, 27, 4, 73
    got = _arrivals(trace)
    assert got == [(0, 0.0, 100, 5), (1, 0.5, 20, 7), (2, 0.5, 3, 1), (3, 2.25, 64, 9)]
    assert "trace.csv (4 requests)" in trace.describe()


def test_trace_accepts_integral_floats(tmp_path):
    trace = perfsim.Trace(_write_trace(tmp_path, "arrival_s,prompt_tokens,output_tokens\n0,10.0,4.0\n"))
    assert trace.max_lengths() == (10, 14)


@pytest.mark.parametrize("text, match", [
    ("arrival_s,prompt_tokens\n0,10\n", r"missing column\(s\) output_tokens; a trace needs"),
    ("time,prompt,output\n0,10,4\n", r"missing column\(s\) arrival_s, prompt_tokens, output_tokens"),
    ("arrival_s,prompt_tokens,output_tokens\n1.0,10,3\n0.5,10,3\n", "must be >= 0 and non-decreasing"),
    ("arrival_s,prompt_tokens,output_tokens\n-0.1,10,3\n", "must be >= 0 and non-decreasing"),
    ("arrival_s,prompt_tokens,output_tokens\n0,10,3.5\n", "must be integers from 1 to"),
    ("arrival_s,prompt_tokens,output_tokens\n0,0,3\n", "must be integers from 1 to"),
    ("arrival_s,prompt_tokens,output_tokens\n0,10,4\n1,10,\n", "must be integers from 1 to"),
    ("arrival_s,prompt_tokens,output_tokens\n", "the trace has no rows"),
    ("", "not a readable CSV"),
])
def test_bad_traces_raise_one_clear_error(tmp_path, text, match):
    path = _write_trace(tmp_path, text)
    with pytest.raises(perfsim.PerfsimInputError, match=match) as info:
        perfsim.Trace(path)
    assert str(path) in str(info.value)


def test_missing_trace_file(tmp_path):
    with pytest.raises(perfsim.PerfsimInputError, match="trace file not found"):
        perfsim.Trace(tmp_path / "missing.csv")


def test_trace_with_text_token_count(tmp_path):
    path = _write_trace(tmp_path, "arrival_s,prompt_tokens,output_tokens\n0,10,abc\n1,10,5\n")
    with pytest.raises(perfsim.PerfsimInputError, match="must be integers from 1 to"):
        perfsim.Trace(path)


def test_trace_with_text_arrival(tmp_path):
    path = _write_trace(tmp_path, "arrival_s,prompt_tokens,output_tokens\nsoon,10,4\n1,10,5\n")
    with pytest.raises(perfsim.PerfsimInputError):
        perfsim.Trace(path)


def test_trace_with_blank_arrival(tmp_path):
    path = _write_trace(tmp_path, "arrival_s,prompt_tokens,output_tokens\n0,10,4\n,10,5\n")
    with pytest.raises(perfsim.PerfsimInputError):
        perfsim.Trace(path)


# --------------------------------------------------------------------------- registry


def test_make_workload_builds_registered_workloads():
    assert {"poisson", "gamma", "closed_loop", "trace"} <= set(registered_workloads())
    workload = make_workload("poisson", rate=2.0, num_requests=10, prompt_len=5, output_len=3)
    assert workload == perfsim.Poisson(2.0, num_requests=10, prompt_len=5, output_len=3)
    assert make_workload("closed_loop", concurrency=2).concurrency == 2


def test_make_workload_unknown_name_lists_allowed():
    with pytest.raises(perfsim.PerfsimInputError,
                       match=r"unknown workload 'bursty'; allowed: batch, closed_loop, gamma, poisson, "
                             r"trace"):
        make_workload("bursty", rate=1.0)


def test_make_workload_bad_parameter_name():
    with pytest.raises(perfsim.PerfsimInputError, match="workload 'poisson':.*unexpected keyword"):
        make_workload("poisson", rate=1.0, requests=5)
