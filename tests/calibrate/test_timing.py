"""The timing harness on CPU: robust statistics, adaptive repetitions, cache-defeating copies."""

import time

import pytest

pytestmark = pytest.mark.calibrate

from perfsim.calibrate.timing import copies_to_defeat_cache, measure, robust_summary  # noqa: E402


def test_outliers_are_dropped_and_counted():
    t = robust_summary([1.0, 1.01, 0.99, 1.02, 0.98] * 4 + [50.0], "perf_counter")
    assert t.outliers == 1 and t.reps == 20
    assert t.median_s == pytest.approx(1.0, abs=0.011)
    assert t.p10_s <= t.median_s <= t.p90_s < 1.03


def test_never_drops_more_than_half():
    # bimodal: half the samples far from the other half must all be kept
    t = robust_summary([1.0] * 5 + [2.0] * 5, "perf_counter")
    assert t.outliers == 0 and t.reps == 10


def test_constant_samples_have_zero_spread():
    t = robust_summary([3e-3] * 7, "perf_counter")
    assert t.spread == 0.0 and t.median_s == 3e-3


def test_empty_samples_are_an_error():
    with pytest.raises(ValueError, match="no timing samples"):
        robust_summary([], "perf_counter")


def test_measure_times_a_known_duration_and_adapts_repetitions():
    calls = []

    def sleep_2ms():
        calls.append(1)
        time.sleep(2e-3)

    t = measure([sleep_2ms], "cpu", budget_s=0.03, min_reps=3, max_reps=100, warmup=2)
    assert 2e-3 <= t.median_s < 6e-3  # sleep never returns early; a loaded machine adds a little
    assert 3 <= t.reps + t.outliers <= 15  # ~0.03 s / 2 ms, not max_reps
    assert len(calls) == t.reps + t.outliers + 3  # two warm-up calls and one estimate are not timed
    assert t.mode == "perf_counter"


def test_measure_cycles_over_operand_copies():
    seen = []
    measure([lambda i=i: seen.append(i) for i in range(3)], "cpu", budget_s=0.0, min_reps=6, warmup=0)
    timed = seen[1:]  # after the estimate call on copy 0; more if the outlier filter dropped some
    assert len(timed) >= 6 and timed == [i % 3 for i in range(len(timed))]


def test_copies_exceed_twice_the_cache():
    assert copies_to_defeat_cache(10 * 2**20, 32 * 2**20) == 7  # 7 x 10 MiB >= 64 MiB
    assert copies_to_defeat_cache(1 * 2**30, 32 * 2**20) == 1
    assert copies_to_defeat_cache(1.0, 32 * 2**20) == 64  # capped
    assert copies_to_defeat_cache(0.0, 32 * 2**20) == 1


def test_measure_needs_a_callable():
    with pytest.raises(ValueError, match="at least one"):
        measure([], "cpu")


def test_cpu_measurement_keeps_at_least_min_reps_when_a_repetition_is_an_outlier(monkeypatch):
    """A loaded machine's slow repetition is dropped, and more are timed until min_reps are kept."""
    import itertools

    from perfsim.calibrate import timing

    clock = [0.0]
    # warm-up x2 and the estimate call, then three timed repetitions of which the last is 100x slow
    durations = itertools.chain([1.0, 1.0, 1.0, 1.0, 1.1, 100.0], itertools.repeat(1.05))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])

    def call() -> None:
        clock[0] += next(durations)

    t = measure([call], "cpu", budget_s=0.5, min_reps=3, max_reps=30, warmup=2)
    assert t.reps >= 3 and t.outliers == 1 and t.median_s == pytest.approx(1.05)
