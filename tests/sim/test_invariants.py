"""Property tests: whatever the workload and engine settings, a run conserves requests and tokens,
keeps time causal, never overfills the KV pool, and is a pure function of its seed."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.decoding import Speculative
from perfsim.sim import Fixed, Uniform
from perfsim.sim.metrics import ServingResult

#: (model, hardware, gpu_memory_utilization range): small KV pools, so preemption happens.
SETUPS = [
    ("qwen3-0.6b", "l4", (0.10, 0.13)),
    ("llama-3.1-8b", "a10g", (0.76, 0.80)),
    ("gpt-oss-20b", "h100-sxm", (0.55, 0.57)),  # sliding window + MoE
    ("mamba2-2.7b", "l4", (0.30, 0.35)),  # recurrent state only
    ("nemotron-h-8b", "l4", (0.80, 0.82)),  # hybrid: KV + state
]
MAX_PROMPT, MAX_OUTPUT = 600, 200
SPECULATIVE = Speculative(k=3, acceptance=0.6)
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def engines(draw):
    scheduler, chunked = draw(st.sampled_from([("vllm", True), ("vllm", False), ("prefill_first", False),
                                               ("guaranteed_no_evict", True)]))
    tokens = draw(st.sampled_from([256, 512, 2048] if chunked else [1024, 2048]))
    return dict(max_num_seqs=draw(st.integers(1, 48)), max_batched_tokens=tokens,
                chunked_prefill=chunked, scheduler=scheduler, block_size=draw(st.sampled_from([1, 16, 32])))


@st.composite
def runs(draw):
    model, hw, (low, high) = draw(st.sampled_from(SETUPS))
    engine = perfsim.EngineConfig(gpu_memory_utilization=draw(st.floats(low, high)), **draw(engines()))
    n = draw(st.integers(1, 30))
    rows = pd.DataFrame({
        "arrival_s": np.cumsum(draw(st.lists(st.floats(0.0, 0.3), min_size=n, max_size=n))),
        "prompt_tokens": draw(st.lists(st.integers(1, MAX_PROMPT), min_size=n, max_size=n)),
        "output_tokens": draw(st.lists(st.integers(1, MAX_OUTPUT), min_size=n, max_size=n)),
    })
    decoding = draw(st.sampled_from([None, "autoregressive", SPECULATIVE]))
    replicas = draw(st.integers(1, 2))
    router = draw(st.sampled_from(["round_robin", "least_outstanding"]))
    return dict(model=model, hw=hw, engine=engine, rows=rows, decoding=decoding, replicas=replicas,
                router=router, seed=draw(st.integers(0, 2**16)))


def _simulate_trace(run, **extra):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.csv"
        run["rows"].to_csv(path, index=False)
        return perfsim.simulate_serving(run["model"], run["hw"], perfsim.Trace(path), run["engine"],
                                        run["decoding"], seed=run["seed"], replicas=run["replicas"],
                                        router=run["router"], **extra)


def check_invariants(result: ServingResult, num_requests: int, max_num_seqs: int | None = None,
                     replicas: int = 1) -> None:
    r = result.requests
    summary = result.summary()
    # every request completes exactly once (the recorder is indexed by request id)
    assert summary["requests_completed"] == len(r) == num_requests
    assert r.notna()[["arrival_s", "first_token_s", "finish_s"]].all().all()
    # causality: prefill ends before the first token, the last token after the first
    assert (r.first_token_s >= r.arrival_s).all()
    assert (r.finish_s >= r.first_token_s).all()
    assert (r.ttft_s > 0).all()
    assert (r.e2e_s >= r.ttft_s).all()
    single = r.output_tokens == 1
    assert (r.finish_s[single] == r.first_token_s[single]).all()
    assert r.tpot_s[single].isna().all() and (r.tpot_s[~single] > 0).all()
    assert (r.preemptions >= 0).all() and summary["preemptions"] == int(r.preemptions.sum())
    assert set(r.replica) <= set(range(replicas))
    # the KV pool is never overfilled; batches respect the sequence limit
    ts = result.timeseries
    assert len(ts) > 0
    assert ts.kv_used_fraction.between(0.0, 1.0).all()
    assert summary["kv_used_max"] <= 1.0
    assert (ts.time_s.diff().dropna() >= 0).all()
    if max_num_seqs is not None:
        assert ts.running.max() <= max_num_seqs
    assert summary["iterations"] >= 1
    # each decode gap is one inter-token interval of one request
    assert result.itl_counts.sum() <= (r.output_tokens - 1).sum()
    assert summary["throughput_tok_s"] > 0


@PROPERTY
@given(run=runs())
def test_trace_runs_conserve_requests_and_tokens(run):
    result = _simulate_trace(run)
    rows = run["rows"]
    check_invariants(result, len(rows), run["engine"].max_num_seqs, run["replicas"])
    r = result.requests
    if run["engine"].scheduler == "guaranteed_no_evict":  # lifetime blocks are held from admission
        assert r.preemptions.sum() == 0
    # row i of the result is request i of the trace: exact token counts, arrival times kept
    np.testing.assert_array_equal(r.prompt_tokens.to_numpy(), rows.prompt_tokens.to_numpy())
    np.testing.assert_array_equal(r.output_tokens.to_numpy(), rows.output_tokens.to_numpy())
    np.testing.assert_allclose(r.arrival_s.to_numpy(), rows.arrival_s.to_numpy(), rtol=1e-9, atol=1e-12)


@PROPERTY
@given(run=runs())
def test_same_seed_gives_identical_results(run):
    first, second = _simulate_trace(run), _simulate_trace(run)
    pd.testing.assert_frame_equal(first.requests, second.requests)
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries)
    np.testing.assert_array_equal(first.itl_counts, second.itl_counts)
    assert first.iterations == second.iterations


@PROPERTY
@given(
    setup=st.sampled_from(SETUPS[:2]),
    concurrency=st.integers(1, 12),
    num_requests=st.integers(1, 40),
    output=st.integers(1, MAX_OUTPUT),
    prompt=st.tuples(st.integers(1, 300), st.integers(0, 300)),
    think=st.sampled_from([0.0, 0.05]),
    engine=engines(),
    speculative=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_closed_loop_runs(setup, concurrency, num_requests, output, prompt, think, engine, speculative, seed):
    model, hw, (low, _) = setup
    low_prompt, extra = prompt
    workload = perfsim.ClosedLoop(concurrency, prompt_len=Uniform(low_prompt, low_prompt + extra),
                                  output_len=Fixed(output), num_requests=num_requests, think_time_s=think)
    config = perfsim.EngineConfig(gpu_memory_utilization=low, **engine)
    result = perfsim.simulate_serving(model, hw, workload, config, SPECULATIVE if speculative else None,
                                      seed=seed)
    check_invariants(result, num_requests, config.max_num_seqs)
    r = result.requests
    assert (r.output_tokens == output).all()
    assert r.prompt_tokens.between(low_prompt, low_prompt + extra).all()
    # never more than `concurrency` requests in flight
    arrivals, finishes = r.arrival_s.to_numpy(), r.finish_s.to_numpy()
    in_flight = [(np.count_nonzero((arrivals <= t) & (finishes > t))) for t in arrivals]
    assert max(in_flight) <= concurrency
    # the first `concurrency` requests arrive at once; later ones only when a client is free
    assert np.count_nonzero(arrivals == 0.0) == min(concurrency, num_requests)
    if think:
        later = np.sort(arrivals)[concurrency:]
        assert all(np.any(finishes + think <= t + 1e-9) for t in later)


@PROPERTY
@given(rate=st.floats(1.0, 40.0), seed=st.integers(0, 10_000), speculative=st.booleans())
def test_poisson_runs_and_seeds(rate, seed, speculative):
    workload = perfsim.Poisson(rate, num_requests=25, prompt_len=(16, 400), output_len=(1, 120))
    decoding = SPECULATIVE if speculative else None
    engine = perfsim.EngineConfig(gpu_memory_utilization=0.11, max_num_seqs=32, max_batched_tokens=512)
    result = perfsim.simulate_serving("qwen3-0.6b", "l4", workload, engine, decoding, seed=seed)
    check_invariants(result, 25, 32)
    r = result.requests
    assert r.prompt_tokens.between(16, 400).all() and r.output_tokens.between(1, 120).all()
    again = perfsim.simulate_serving("qwen3-0.6b", "l4", workload, engine, decoding, seed=seed)
    pd.testing.assert_frame_equal(result.requests, again.requests)
    other = perfsim.simulate_serving("qwen3-0.6b", "l4", workload, engine, decoding, seed=seed + 1)
    assert not np.allclose(other.requests.arrival_s.to_numpy(), r.arrival_s.to_numpy())


# --------------------------------------------------------------------------- preemption, deterministically


@pytest.mark.parametrize("decoding", [None, SPECULATIVE], ids=["autoregressive", "speculative"])
@pytest.mark.parametrize("scheduler, chunked", [("vllm", True), ("vllm", False), ("prefill_first", False)])
def test_tight_kv_pool_preempts_and_still_delivers_every_token(decoding, scheduler, chunked):
    """About 100 blocks of 16 tokens for 8 concurrent 400-token requests: requests must be
    preempted, recomputed and resumed, and each must still produce exactly its output length."""
    engine = perfsim.EngineConfig(gpu_memory_utilization=0.1, scheduler=scheduler, chunked_prefill=chunked,
                                  max_batched_tokens=1024)
    workload = perfsim.ClosedLoop(8, prompt_len=200, output_len=200, num_requests=24)
    result = perfsim.simulate_serving("qwen3-0.6b", "l4", workload, engine, decoding, seed=3)
    check_invariants(result, 24)
    summary = result.summary()
    assert summary["preemptions"] > 0
    assert (result.requests.output_tokens == 200).all()
    assert summary["kv_used_max"] > 0.9  # the pool ran (nearly) full
    assert result.meta["kv_blocks"] < 8 * 400 / 16


def test_tight_pool_trace_with_mixed_lengths_preempts(tmp_path):
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"arrival_s": np.sort(rng.uniform(0, 0.5, 40)),
                         "prompt_tokens": rng.integers(1, 600, 40),
                         "output_tokens": rng.integers(1, 200, 40)})
    path = tmp_path / "trace.csv"
    rows.to_csv(path, index=False)
    engine = perfsim.EngineConfig(gpu_memory_utilization=0.1, max_batched_tokens=512)
    result = perfsim.simulate_serving("qwen3-0.6b", "l4", perfsim.Trace(path), engine, SPECULATIVE)
    check_invariants(result, 40)
    assert result.summary()["preemptions"] > 0
    np.testing.assert_array_equal(result.requests.output_tokens, rows.output_tokens)


def test_llama_on_a10g_preempts_under_load():
    engine = perfsim.EngineConfig(gpu_memory_utilization=0.76)
    workload = perfsim.Poisson(50.0, num_requests=60, prompt_len=(200, 1500), output_len=(100, 400))
    result = perfsim.simulate_serving("llama-3.1-8b", "a10g", workload, engine, seed=1)
    check_invariants(result, 60)
    assert result.summary()["preemptions"] > 0
