"""IterationCosts (the simulator's tabulated step cost) against the predictor's exact step latency."""

import numpy as np
import pytest

import perfsim
from perfsim.decoding import Speculative, make_decoding
from perfsim.sim.costs import IterationCosts

MAX_SEQS, MAX_TOKENS, MAX_CONTEXT = 256, 4096, 16384


def _costs(model, hw="h100-sxm", decoding=None, execution=None, max_context=MAX_CONTEXT):
    model, hw = perfsim.load_model(model), perfsim.load_hardware(hw)
    execution = execution or perfsim.Execution()
    costs = IterationCosts(model, hw, make_decoding(decoding), execution, max_seqs=MAX_SEQS,
                           max_tokens=MAX_TOKENS, max_context=min(max_context, model.max_context_len))
    return model, hw, execution, costs


def _random_batches(seed, n, max_context):
    """Decode batch (possibly empty) plus one prefill chunk, all within the table limits."""
    rng = np.random.default_rng(seed)
    batch = rng.integers(0, MAX_SEQS + 1, n)
    batch[:5] = 0  # always include prefill-only iterations
    context = np.where(batch > 0, rng.uniform(1, max_context, n), 0.0)
    chunk = rng.integers(1, MAX_TOKENS + 1, n)
    past = rng.integers(0, np.maximum(max_context - chunk, 1))
    return batch, context, chunk, past


def _relative_errors(model, hw, execution, costs, seed, n=150):
    batch, context, chunk, past = _random_batches(seed, n, costs.context_grid[-1])
    exact = perfsim.step_latency(model, hw, perfsim.StepBatch(
        decode_seqs=batch.astype(float), decode_context=context, prefill_seqs=1,
        prefill_tokens=chunk.astype(float), prefill_past=past.astype(float)), execution)
    got = np.array([costs.mixed(int(b), float(c), [(int(p), int(q))])
                    for b, c, p, q in zip(batch, context, chunk, past, strict=True)])
    return np.abs(got / np.asarray(exact) - 1)


@pytest.mark.parametrize("model", ["llama-3.1-8b", "qwen3-0.6b", "gpt-oss-20b"])
def test_mixed_batches_are_exact_with_cuda_graphs(model):
    m, hw, execution, costs = _costs(model)
    errors = _relative_errors(m, hw, execution, costs, seed=1)
    # gpt-oss decode attention on sliding-window layers is min(c, window), interpolated linearly
    assert errors.max() < (1e-6 if model != "gpt-oss-20b" else 1e-5)


def test_mixed_batches_are_exact_with_tensor_parallelism():
    m, hw, execution, costs = _costs("llama-3.1-8b", execution=perfsim.Execution(tensor_parallel=2))
    assert _relative_errors(m, hw, execution, costs, seed=2).max() < 1e-6


@pytest.mark.parametrize("model", ["llama-3.1-8b", "gpt-oss-20b"])
def test_mixed_batches_are_close_in_eager_mode(model):
    m, hw, execution, costs = _costs(model, execution=perfsim.Execution(cuda_graphs=False))
    errors = _relative_errors(m, hw, execution, costs, seed=3)
    assert errors.max() < 0.03


@pytest.mark.parametrize("model", ["mamba2-2.7b", "nemotron-h-8b"])
def test_recurrent_mixed_batches_are_close(model):
    m, hw, execution, costs = _costs(model)
    assert _relative_errors(m, hw, execution, costs, seed=4, n=60).max() < 1e-3


def test_recurrent_mixed_batches_match_with_cuda_graphs():
    # only the per-sequence conv-state reads of a mixed step's extra sequences are missing
    m, hw, execution, costs = _costs("mamba2-2.7b")
    assert _relative_errors(m, hw, execution, costs, seed=4, n=60).max() < 1e-3


def test_decode_only_iterations_match_step_latency():
    m, hw, execution, costs = _costs("llama-3.1-8b")
    rng = np.random.default_rng(5)
    batch = rng.integers(1, MAX_SEQS + 1, 100)
    context = rng.uniform(1, MAX_CONTEXT, 100)
    exact = perfsim.step_latency(m, hw, perfsim.StepBatch(decode_seqs=batch.astype(float),
                                                          decode_context=context), execution)
    got = [costs.decode(int(b), float(c)) for b, c in zip(batch, context, strict=True)]
    np.testing.assert_allclose(got, exact, rtol=1e-6)
    assert costs.decode(0, 0.0) == costs.base_s
    assert costs.mixed(7, 300.0, []) == costs.decode(7, 300.0)


def test_decode_run_is_consecutive_decodes():
    *_, costs = _costs("llama-3.1-8b")
    run = costs.decode_run(32, 1000.5 + np.arange(50))
    assert run.shape == (50,)
    np.testing.assert_allclose(run, [costs.decode(32, 1000.5 + i) for i in range(50)], rtol=1e-12)
    assert np.all(np.diff(run) >= 0)  # longer contexts never get cheaper


def test_costs_grow_with_batch_and_chunk():
    *_, costs = _costs("llama-3.1-8b")
    decodes = [costs.decode(b, 2000.0) for b in (1, 16, 64, 256)]
    assert decodes == sorted(decodes)
    chunks = [costs.mixed(0, 0.0, [(p, 0)]) for p in (16, 256, 1024, 4096)]
    assert chunks == sorted(chunks) and chunks[-1] > 10 * chunks[0]


@pytest.mark.parametrize("strategy", [
    Speculative(k=3, acceptance=0.7, draft="eagle"),
    Speculative(k=4, acceptance=0.6, draft="qwen3-0.6b"),
])
def test_speculative_decode_is_the_strategy_iteration_latency(strategy):
    m, hw, execution, costs = _costs("qwen3-8b", decoding=strategy)
    assert costs.query_tokens == strategy.k + 1
    rng = np.random.default_rng(6)
    batch = rng.integers(1, MAX_SEQS + 1, 60)
    context = rng.uniform(1, MAX_CONTEXT, 60)
    exact = strategy.iteration_latency(m, hw, batch.astype(float), context, execution)
    got = [costs.decode(int(b), float(c)) for b, c in zip(batch, context, strict=True)]
    np.testing.assert_allclose(got, exact, rtol=1e-6)
    # a speculative iteration (drafts + k+1-token verify) costs more than a plain AR step
    *_, ar = _costs("qwen3-8b")
    assert costs.decode(8, 1000.0) > ar.decode(8, 1000.0)


def test_speculative_mixed_counts_verify_tokens():
    """A mixed iteration's decode part occupies B*(k+1) token slots of the target forward."""
    strategy = Speculative(k=3, acceptance=0.7)
    m, hw, execution, costs = _costs("llama-3.1-8b", decoding=strategy)
    batch, context, chunk, past = 24, 1500.0, 700, 300
    target = perfsim.StepBatch(decode_seqs=batch, decode_context=context, decode_tokens=strategy.k + 1,
                               prefill_seqs=1, prefill_tokens=chunk, prefill_past=past)
    drafts = strategy.k * perfsim.step_latency(strategy.drafter(m), hw, perfsim.StepBatch(
        decode_seqs=batch, decode_context=context), execution)
    exact = float(perfsim.step_latency(m, hw, target, execution) + drafts)
    assert costs.mixed(batch, context, [(chunk, past)]) == pytest.approx(exact, rel=1e-6)


def test_mixed_batches_are_exact_with_per_sequence_host_cost():
    """A runtime's host cost per running sequence is in the tables exactly as in step_latency."""
    execution = perfsim.Execution(host_overhead_per_step_s=3e-4, host_per_seq_per_step_s=2e-5)
    m, hw, execution, costs = _costs("llama-3.1-8b", execution=execution)
    assert _relative_errors(m, hw, execution, costs, seed=4).max() < 1e-6
    exact = perfsim.step_latency(m, hw, perfsim.StepBatch(decode_seqs=64.0, decode_context=900.0), execution)
    assert costs.decode(64, 900.0) == pytest.approx(float(exact), rel=1e-6)
