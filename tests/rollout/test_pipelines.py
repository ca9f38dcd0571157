"""Pipeline schedules: sums of phases, overlap, bubbles, and the off-policy invariant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.rollout.pipelines import Phases, create_pipeline, registered_pipelines
from perfsim.rollout.result import timeline_frame

durations = st.lists(st.floats(0.01, 100.0), min_size=1, max_size=8)


def _phases(g, t, s):
    n = min(len(g), len(t), len(s))
    return Phases(np.array(g[:n]), np.array(t[:n]), np.array(s[:n]))


def _ends(intervals, steps):
    ends = np.zeros(steps)
    for i in intervals:
        ends[i.step] = max(ends[i.step], i.end_s)
    return ends


def test_registry_lists_the_three_pipelines():
    assert {"sync", "async", "partial"} <= set(registered_pipelines())


@given(durations, durations, durations, st.booleans())
@settings(max_examples=60, deadline=None)
def test_sync_step_is_the_sum_of_its_phases(g, t, s, colocated):
    """Synchronous: each step takes generation + training + sync, nothing overlaps."""
    phases = _phases(g, t, s)
    ends = _ends(create_pipeline("sync").schedule(phases, colocated), phases.steps)
    np.testing.assert_allclose(np.diff(np.concatenate([[0], ends])),
                               phases.generation_s + phases.training_s + phases.sync_s)


@given(durations, durations, durations, st.booleans())
@settings(max_examples=100, deadline=None)
def test_async_is_never_slower_than_sync(g, t, s, colocated):
    phases = _phases(g, t, s)
    sync_end = _ends(create_pipeline("sync").schedule(phases, colocated), phases.steps)[-1]
    async_end = _ends(create_pipeline("async").schedule(phases, colocated), phases.steps)[-1]
    assert async_end <= sync_end * (1 + 1e-12)


@given(durations, durations, durations, st.sampled_from(["sync", "async"]), st.booleans())
@settings(max_examples=100, deadline=None)
def test_no_pool_runs_two_phases_at_once_and_bubbles_fill_the_rest(g, t, s, name, colocated):
    phases = _phases(g, t, s)
    intervals = create_pipeline(name).schedule(phases, colocated)
    ends = _ends(intervals, phases.steps)
    frame = timeline_frame(intervals, ends)
    for _, pool in frame.groupby("pool"):
        pool = pool.sort_values("start_s")
        assert np.all(pool.start_s.to_numpy()[1:] >= pool.end_s.to_numpy()[:-1] - 1e-9)
        assert pool.duration_s.sum() == pytest.approx(ends[-1], rel=1e-9)  # busy + idle = run


@given(durations, durations, durations)
@settings(max_examples=60, deadline=None)
def test_async_generation_waits_for_the_weights_two_steps_back(g, t, s):
    """One step off-policy: generation n starts only after sync n-2 ended."""
    phases = _phases(g, t, s)
    intervals = create_pipeline("async").schedule(phases, colocated=False)
    gen = {i.step: i for i in intervals if i.phase == "generation"}
    sync_end = {i.step: i.end_s for i in intervals if i.phase == "sync"}
    for n, interval in gen.items():
        if n >= 2:
            assert interval.start_s >= sync_end[n - 2] - 1e-9


def test_async_steady_state_is_max_of_generation_and_training_plus_sync():
    phases = Phases(np.full(6, 10.0), np.full(6, 4.0), np.full(6, 1.0))
    ends = _ends(create_pipeline("async").schedule(phases, colocated=False), 6)
    assert np.diff(ends)[1:-1] == pytest.approx([11.0] * 3)
    assert np.diff(ends)[-1] == pytest.approx(5.0)  # the last step drains: training + sync only
    sync_ends = _ends(create_pipeline("sync").schedule(phases, colocated=False), 6)
    assert np.diff(sync_ends) == pytest.approx([15.0] * 5)


def test_colocated_async_cannot_overlap():
    phases = Phases(np.array([3.0, 5.0]), np.array([2.0, 2.0]), np.array([0.5, 0.5]))
    a = create_pipeline("async").schedule(phases, colocated=True)
    s = create_pipeline("sync").schedule(phases, colocated=True)
    assert [(i.phase, i.start_s, i.end_s) for i in a] == [(i.phase, i.start_s, i.end_s) for i in s]


def test_disaggregated_sync_bubbles_are_the_other_pools_phases():
    phases = Phases(np.array([10.0, 12.0]), np.array([4.0, 3.0]), np.array([1.0, 1.0]))
    intervals = create_pipeline("sync").schedule(phases, colocated=False)
    frame = timeline_frame(intervals, _ends(intervals, 2))
    idle = frame[frame.phase == "idle"].groupby(["pool", "step"]).duration_s.sum()
    assert idle["generation"].tolist() == pytest.approx([4.0, 3.0])  # waits for training
    assert idle["training"].tolist() == pytest.approx([10.0, 12.0])  # waits for generation
