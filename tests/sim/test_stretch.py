"""Offline sampled stretches that run past finishing requests (perfsim.sim.stretch): the pieces,
and the same simulation statistics as stopping at every finish."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import perfsim
from perfsim.decoding import Speculative
from perfsim.sim import Batch
from perfsim.sim.costs import IterationCosts
from perfsim.sim.stretch import accept_until_done, batches_and_contexts, running_mask
from perfsim.spec.deployment import Execution

LLAMA, H100 = "llama-3.1-8b", "h100-sxm"


@settings(max_examples=50, deadline=None)
@given(drawn=arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 12)), elements=st.integers(1, 4)),
       data=st.data())
def test_tokens_are_capped_and_each_finish_is_the_first_iteration_that_reaches_it(drawn, data):
    k = drawn.shape[0]
    remaining = np.array(data.draw(st.lists(st.integers(1, 40), min_size=k, max_size=k)))
    accepted, finish = accept_until_done(drawn, remaining)
    assert (accepted <= remaining[:, None]).all() and (np.diff(accepted, axis=1) >= 0).all()
    for i in range(k):
        if finish[i] < drawn.shape[1]:
            assert accepted[i, finish[i]] == remaining[i]
            assert finish[i] == 0 or accepted[i, finish[i] - 1] < remaining[i]
        else:
            assert accepted[i, -1] < remaining[i]
    active = running_mask(finish, drawn.shape[1])
    assert active[:, 0].all() and (active.sum(axis=1) == np.minimum(finish + 1, drawn.shape[1])).all()


def test_each_iteration_is_priced_at_the_requests_still_running():
    computed = np.array([100, 200, 300])
    accepted = np.array([[2, 3, 3], [1, 2, 4], [3, 6, 9]])
    finish = np.array([1, 5, 5])  # the first request finishes in iteration 1
    sizes, contexts = batches_and_contexts(computed, accepted, running_mask(finish, 3))
    assert sizes.tolist() == [3, 3, 2]
    assert contexts.tolist() == pytest.approx([200.0, (102 + 201 + 303) / 3, (202 + 306) / 2])


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 64), contexts=arrays(float, 8, elements=st.floats(0.0, 5000.0)))
def test_varying_batch_pricing_equals_the_fixed_batch_run(batch, contexts):
    costs = IterationCosts(perfsim.load_model(LLAMA), perfsim.load_hardware(H100),
                           Speculative(k=3, acceptance=0.7), Execution(), max_seqs=64, max_tokens=2048,
                           max_context=4096)
    fixed = costs.decode_run(batch, contexts)
    assert np.allclose(costs.decode_sizes(np.full(8, batch), contexts), fixed, rtol=1e-12, atol=0)


def _offline_rollout(monkeypatch, offline: bool, seed: int):
    monkeypatch.setattr(Batch, "offline", offline)
    rng = np.random.default_rng(seed)
    outputs = np.rint(rng.lognormal(np.log(300), 0.8, 96)).clip(2, 2000).astype(int)
    eagle = Speculative(k=3, acceptance=0.7, draft="eagle")
    # runtime=None: with a runtime's API-server cost a served batch would also arrive later
    return perfsim.simulate_serving(LLAMA, H100, Batch(np.full(96, 128), outputs), decoding=eagle,
                                    seed=seed, runtime=None)


def test_running_past_finishes_keeps_the_statistics_of_stopping_at_each(monkeypatch):
    """Same requests, same tokens; finish times, makespan and inter-token gaps agree in
    distribution (different draws: means over seeds within a few per cent)."""
    past, each = [], []
    for seed in range(4):
        past.append(_offline_rollout(monkeypatch, True, seed))
        each.append(_offline_rollout(monkeypatch, False, seed))
    for a, b in zip(past, each, strict=True):
        assert (a.requests.output_tokens.to_numpy() == b.requests.output_tokens.to_numpy()).all()
        assert a.itl_counts.sum() == pytest.approx(b.itl_counts.sum(), rel=0.05)
    mean = {name: np.mean([r.requests.finish_s.mean() for r in runs]) for name, runs in
            (("past", past), ("each", each))}
    assert mean["past"] == pytest.approx(mean["each"], rel=0.03)
    assert np.mean([r.duration_s for r in past]) == pytest.approx(np.mean([r.duration_s for r in each]),
                                                                rel=0.03)
    assert sum(r.iterations for r in past) == pytest.approx(sum(r.iterations for r in each), rel=0.03)
