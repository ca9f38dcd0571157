"""Benchmark-client protocol (perfsim.sim.clients): burst/staggered start, warm-up exclusion."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import perfsim
from perfsim.sim import serving
from perfsim.sim.metrics import Recorder, ServingResult

LLAMA, H100 = "llama-3.1-8b", "h100-sxm"


def _run(workload, seed=0):
    return perfsim.simulate_serving(LLAMA, H100, workload, seed=seed)


def _run_unfiltered(monkeypatch, workload, seed=0):
    """The same run with a recorder that measures every request (the dynamics do not depend on it)."""
    class KeepAll(Recorder):
        def __init__(self, n, **kw):
            super().__init__(n, **{**kw, "warmup": 0})

    monkeypatch.setattr(serving, "Recorder", KeepAll)
    try:
        return _run(workload, seed)
    finally:
        monkeypatch.undo()


def _max_in_flight(frame):
    """Most requests between arrival and finish at once (a finish at t frees its slot before an
    arrival at t)."""
    events = sorted([(t, 1) for t in frame.arrival_s] + [(t, -1) for t in frame.finish_s])
    return int(np.max(np.cumsum([d for _, d in events])))


WARM = perfsim.ClosedLoop(6, prompt_len=perfsim.Uniform(200, 1200), output_len=perfsim.Uniform(16, 96),
                          num_requests=48, warmup_requests=12)


def test_warmup_requests_are_excluded_from_every_metric(monkeypatch):
    measured = _run(WARM)
    full = _run_unfiltered(monkeypatch, WARM)
    assert len(full.requests) == 48 and len(measured.requests) == 36
    rest = full.requests.iloc[12:].reset_index(drop=True)
    pd.testing.assert_frame_equal(measured.requests, rest)
    # the measured phase starts when the warm-up has drained (AIPerf's default)
    assert rest.arrival_s.min() == pytest.approx(full.requests.finish_s.iloc[:12].max())
    # summary == the same statistics computed on the non-warm-up requests alone
    expected = ServingResult(requests=rest, itl_counts=measured.itl_counts,
                             timeseries=measured.timeseries, iterations=measured.iterations).summary()
    got = measured.summary()
    for key in ("requests_completed", "ttft_mean_s", "ttft_p99_s", "tpot_p50_s", "e2e_p90_s",
                "throughput_tok_s", "requests_per_s", "duration_s"):
        assert got[key] == pytest.approx(expected[key]), key
    span = rest.finish_s.max() - rest.arrival_s.min()
    assert got["throughput_tok_s"] == pytest.approx(rest.output_tokens.sum() / span)
    # ITL: exactly the measured requests' gaps (output - 1 each), none of the warm-up's
    assert measured.itl_counts.sum() == (rest.output_tokens - 1).sum()
    warm = full.requests.iloc[:12]
    assert (full.itl_counts - measured.itl_counts).sum() == (warm.output_tokens - 1).sum()
    assert (full.itl_counts >= measured.itl_counts).all()
    assert measured.timeseries.time_s.min() >= rest.arrival_s.min()
    assert measured.iterations < full.iterations
    assert measured.meta["warmup_requests"] == 12 and "12 warm-up" in measured.meta["workload"]


def test_burst_queues_first_requests_more_than_staggered():
    common = dict(prompt_len=2048, output_len=512, num_requests=32)  # no client finishes in the ramp
    burst = _run(perfsim.ClosedLoop(16, **common)).requests
    ramp = _run(perfsim.ClosedLoop(16, client_start="staggered", ramp_s=1.5, **common)).requests
    assert (burst.arrival_s.iloc[:16] == 0).all()
    np.testing.assert_allclose(ramp.sort_values("arrival_s").arrival_s.iloc[:16], np.arange(16) * 0.1,
                               atol=1e-12)
    assert burst.ttft_s.iloc[:16].mean() > 2 * ramp.ttft_s.iloc[:16].mean()
    assert burst.ttft_s.iloc[:16].max() > ramp.ttft_s.iloc[:16].max()


@pytest.mark.parametrize("kw", [
    dict(),
    dict(client_start="staggered", ramp_s=0.5),
    dict(client_start="staggered", ramp_s=0.5, think_time_s=0.05, warmup_requests=10),
    dict(think_time_s=0.02, warmup_requests=3),
])
def test_concurrency_is_never_exceeded(monkeypatch, kw):
    workload = perfsim.ClosedLoop(5, prompt_len=perfsim.Uniform(64, 512), output_len=perfsim.Uniform(8, 64),
                                  num_requests=40, **kw)
    full = _run_unfiltered(monkeypatch, workload)
    assert len(full.requests) == 40
    assert _max_in_flight(full.requests) == 5


def test_same_seed_same_run_and_seed_matters():
    workload = perfsim.ClosedLoop(4, prompt_len=perfsim.Uniform(100, 900), output_len=perfsim.Uniform(8, 80),
                                  num_requests=30, client_start="staggered", ramp_s=0.2, warmup_requests=6)
    a, b, c = _run(workload, 3), _run(workload, 3), _run(workload, 4)
    pd.testing.assert_frame_equal(a.requests, b.requests)
    assert a.summary() == b.summary()
    assert not a.requests.prompt_tokens.equals(c.requests.prompt_tokens)


@pytest.mark.parametrize("kw, field", [
    (dict(client_start="ramp"), "client_start"),
    (dict(client_start="staggered", ramp_s=float("nan")), "ramp_s"),
    (dict(client_start="staggered", ramp_s=float("inf")), "ramp_s"),
    (dict(client_start="staggered", ramp_s=-1.0), "ramp_s"),
    (dict(ramp_s=2.0), "ramp_s"),
    (dict(warmup_requests=-1), "warmup_requests"),
    (dict(warmup_requests=1.5), "warmup_requests"),
    (dict(warmup_requests=10), "warmup_requests"),  # not below num_requests
    (dict(think_time_s=float("nan")), "think_time_s"),
    (dict(think_time_s=float("inf")), "think_time_s"),
])
def test_bad_client_parameters_are_one_sentence(kw, field):
    with pytest.raises(perfsim.PerfsimInputError) as info:
        perfsim.ClosedLoop(2, num_requests=10, **kw)
    message = str(info.value)
    assert message.startswith(field) and "\n" not in message and message.endswith(".")


def test_cli_passes_client_protocol():
    out = subprocess.run([sys.executable, "-m", "perfsim", "simulate", "-m", "qwen3-0.6b", "-h", "l4",
                          "--workload", "closed_loop", "--concurrency", "4", "--num-requests", "24",
                          "--prompt-len", "256", "--output-len", "32", "--client-start", "staggered",
                          "--ramp-s", "0.3", "--warmup-requests", "8", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    summary = summary[0] if isinstance(summary, list) else summary
    assert summary["requests_completed"] == 16 and summary["warmup_requests"] == 8
    bad = subprocess.run([sys.executable, "-m", "perfsim", "simulate", "-m", "qwen3-0.6b", "-h", "l4",
                          "--workload", "closed_loop", "--ramp-s", "nan", "--client-start", "staggered"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--ramp-s must be a number from 0 to" in bad.stderr
