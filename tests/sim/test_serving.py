"""simulate_serving: behaviours a serving simulator must reproduce, its outputs and its errors."""

import json

import numpy as np
import pandas as pd
import pytest

import perfsim
from perfsim.cost.runtime import resolve_deployment
from perfsim.decoding import Speculative
from perfsim.sim import serving
from perfsim.sim.metrics import ITL_EDGES_S

LLAMA, H100 = "llama-3.1-8b", "h100-sxm"
EAGLE = Speculative(k=3, acceptance=0.8, draft="eagle")


def closed(concurrency, num_requests=None, prompt_len=256, output_len=64, **kw):
    return perfsim.ClosedLoop(concurrency, prompt_len=prompt_len, output_len=output_len,
                              num_requests=num_requests or max(2 * concurrency, 32), **kw)


def _itl_mean(result):
    """Token-weighted mean inter-token latency from the histogram (bin centres)."""
    counts = result.itl_counts[1:-1]
    centres = np.sqrt(ITL_EDGES_S[:-1] * ITL_EDGES_S[1:])
    return float((counts * centres).sum() / counts.sum())


def _decode_time_per_token(result):
    r = result.requests
    return float((r.finish_s - r.first_token_s).sum() / (r.output_tokens - 1).sum())


# --------------------------------------------------------------------------- batching behaviour


def test_batching_raises_throughput_and_tpot():
    one = perfsim.simulate_serving(LLAMA, H100, closed(1)).summary()
    many = perfsim.simulate_serving(LLAMA, H100, closed(16)).summary()
    assert many["tpot_mean_s"] > one["tpot_mean_s"]
    assert many["throughput_tok_s"] > 5 * one["throughput_tok_s"]
    assert many["running_mean"] > one["running_mean"]


def test_single_stream_tpot_is_the_decode_step_latency():
    """Alone in the engine, each token costs one decode iteration at the request's context."""
    result = perfsim.simulate_serving(LLAMA, H100, closed(1, num_requests=3, prompt_len=512, output_len=33))
    model, hw = perfsim.load_model(LLAMA), perfsim.load_hardware(H100)
    priced_on, vllm = resolve_deployment("vllm", hw)  # the default runtime, as simulate_serving does
    batch = perfsim.StepBatch(decode_seqs=1, decode_context=512 + 16)
    step = perfsim.step_latency(model, priced_on, batch, vllm)
    assert result.summary()["tpot_mean_s"] == pytest.approx(float(step), rel=0.01)
    assert result.summary()["preemptions"] == 0


def test_speculative_decoding_gains_shrink_with_concurrency():
    def speedup(concurrency):
        ar = perfsim.simulate_serving(LLAMA, H100, closed(concurrency)).summary()
        sd = perfsim.simulate_serving(LLAMA, H100, closed(concurrency), decoding=EAGLE).summary()
        return ar["tpot_mean_s"] / sd["tpot_mean_s"]

    alone, busy = speedup(1), speedup(64)
    assert alone > 1.5  # ~3.4 tokens per verify for ~1.5x the cost of a step
    assert busy < alone


def test_speculative_string_name_and_meta():
    result = perfsim.simulate_serving(LLAMA, H100, closed(2, num_requests=4), decoding="autoregressive")
    assert result.meta["decoding"] == "autoregressive"
    result = perfsim.simulate_serving(LLAMA, H100, closed(2, num_requests=4), decoding=EAGLE)
    assert "speculative" in result.meta["decoding"]
    assert (result.requests.output_tokens == 64).all()


LONG_PROMPTS = perfsim.Poisson(4.0, num_requests=150, prompt_len=4000, output_len=128)
CHUNKED = perfsim.EngineConfig(max_batched_tokens=512)
PREFILL_FIRST = perfsim.EngineConfig(scheduler="prefill_first", chunked_prefill=False,
                                     max_batched_tokens=8192)


def test_prefill_first_stalls_decodes_more_than_chunked_prefill():
    chunked = perfsim.simulate_serving(LLAMA, H100, LONG_PROMPTS, CHUNKED).summary()
    stalled = perfsim.simulate_serving(LLAMA, H100, LONG_PROMPTS, PREFILL_FIRST).summary()
    assert stalled["tpot_p99_s"] > 1.3 * chunked["tpot_p99_s"]


def test_itl_histogram_accounts_for_every_decode_second_without_stalls():
    """With chunked prefill and no preemption every running request decodes every iteration, so
    the ITL histogram's mean equals decode time per decoded token."""
    result = perfsim.simulate_serving(LLAMA, H100, LONG_PROMPTS, CHUNKED)
    assert result.summary()["preemptions"] == 0
    assert result.itl_counts.sum() == (result.requests.output_tokens - 1).sum()
    assert _itl_mean(result) == pytest.approx(_decode_time_per_token(result), rel=0.01)


def test_itl_histogram_includes_decode_stalls_under_prefill_first():
    result = perfsim.simulate_serving(LLAMA, H100, LONG_PROMPTS, PREFILL_FIRST)
    assert _itl_mean(result) == pytest.approx(_decode_time_per_token(result), rel=0.05)


def test_step_overhead_slows_every_iteration():
    fast = perfsim.simulate_serving(LLAMA, H100, closed(4)).summary()
    engine = perfsim.EngineConfig(step_overhead_s=0.002)
    slow = perfsim.simulate_serving(LLAMA, H100, closed(4), engine).summary()
    assert slow["tpot_mean_s"] == pytest.approx(fast["tpot_mean_s"] + 0.002, rel=0.05)


def test_max_num_seqs_caps_the_batch():
    result = perfsim.simulate_serving(LLAMA, H100, closed(16), perfsim.EngineConfig(max_num_seqs=4))
    assert result.timeseries.running.max() == 4
    assert result.timeseries.waiting.max() > 0


# --------------------------------------------------------------------------- replicas and routers


HEAVY = perfsim.Poisson(6.0, num_requests=200, prompt_len=512, output_len=128)


def test_two_replicas_split_round_robin_and_cut_ttft():
    one = perfsim.simulate_serving(LLAMA, "a10g", HEAVY)
    two = perfsim.simulate_serving(LLAMA, "a10g", HEAVY, replicas=2)
    assert set(one.requests.replica) == {0}
    counts = two.requests.replica.value_counts()
    assert counts[0] == counts[1] == 100  # round robin alternates
    assert (two.requests.replica.to_numpy() == np.arange(200) % 2).all()
    assert two.summary()["ttft_mean_s"] < 0.5 * one.summary()["ttft_mean_s"]
    assert two.meta["replicas"] == 2


def test_least_outstanding_router_balances():
    result = perfsim.simulate_serving(LLAMA, "a10g", HEAVY, replicas=3, router="least_outstanding")
    counts = result.requests.replica.value_counts()
    assert set(counts.index) == {0, 1, 2}
    assert counts.max() - counts.min() < 20
    assert result.meta["router"] == "least_outstanding"
    assert result.summary()["requests_completed"] == 200


def test_least_outstanding_sends_to_an_idle_replica():
    """Closed loop with one client: replica 0 is always idle when the next request comes."""
    result = perfsim.simulate_serving(LLAMA, H100, closed(1, num_requests=6), replicas=3,
                                      router="least_outstanding")
    assert set(result.requests.replica) == {0}


def test_custom_router_can_be_registered(monkeypatch):
    class ToLast(serving.Router):
        name = "to_last"

        def pick(self, replicas, request):
            return replicas[-1]

    monkeypatch.setitem(serving._ROUTERS._classes, "to_last", ToLast)
    result = perfsim.simulate_serving(LLAMA, H100, closed(2, num_requests=6), replicas=3, router="to_last")
    assert set(result.requests.replica) == {2}


def test_replica_count_does_not_change_the_workload():
    one = perfsim.simulate_serving(LLAMA, H100, perfsim.Poisson(2.0, num_requests=20, prompt_len=64,
                                                                output_len=8))
    two = perfsim.simulate_serving(LLAMA, H100, perfsim.Poisson(2.0, num_requests=20, prompt_len=64,
                                                                output_len=8), replicas=2)
    np.testing.assert_allclose(one.requests.arrival_s, two.requests.arrival_s)


# --------------------------------------------------------------------------- other architectures, TP


def test_mamba_state_only_model_runs():
    result = perfsim.simulate_serving("mamba2-2.7b", H100, closed(8, prompt_len=512, output_len=64))
    assert result.summary()["requests_completed"] == 32
    assert (result.requests.output_tokens == 64).all()


def test_mamba_state_slots_limit_the_batch():
    """Without KV the pool is counted in per-sequence state slots: 6 of them here."""
    engine = perfsim.EngineConfig(gpu_memory_utilization=0.3)
    result = perfsim.simulate_serving("mamba2-2.7b", "l4", closed(16, prompt_len=128, output_len=32), engine)
    slots = result.meta["kv_blocks"]
    assert 1 <= slots < 16
    assert result.timeseries.running.max() == slots
    assert result.summary()["requests_completed"] == 32


def test_sliding_window_moe_model_runs():
    result = perfsim.simulate_serving("gpt-oss-20b", H100, closed(8, prompt_len=1024, output_len=64))
    assert result.summary()["requests_completed"] == 32
    assert result.summary()["tpot_mean_s"] > 0


def test_sliding_window_kv_stops_growing_at_the_window():
    from perfsim.sim.kvcache import KVCache

    model, hw = perfsim.load_model("gpt-oss-20b"), perfsim.load_hardware(H100)
    kv = KVCache(model, hw, block_size=16, gpu_memory_utilization=0.9, max_batched_tokens=2048, max_seqs=64)
    inside = kv.blocks_for(100) - kv.blocks_for(0)
    beyond = kv.blocks_for(20100) - kv.blocks_for(20000)
    assert 0 < beyond < inside  # windowed layers stopped growing past the window
    tokens = np.array([0, 1, 127, 128, 129, 5000, 19000])
    assert kv.blocks_for_many(tokens).tolist() == [kv.blocks_for(int(t)) for t in tokens]


def test_tensor_parallel_runs_faster_with_more_kv():
    one = perfsim.simulate_serving(LLAMA, H100, closed(1, num_requests=4))
    two = perfsim.simulate_serving(LLAMA, H100, closed(1, num_requests=4),
                                   execution=perfsim.Execution(tensor_parallel=2))
    assert two.meta["tensor_parallel"] == 2
    assert two.summary()["tpot_mean_s"] < one.summary()["tpot_mean_s"]
    assert two.meta["kv_blocks"] > 2 * one.meta["kv_blocks"]


# --------------------------------------------------------------------------- outputs


def test_chrome_trace_needs_trace_true(tmp_path):
    result = perfsim.simulate_serving(LLAMA, H100, closed(2, num_requests=4))
    assert result.trace_events is None
    with pytest.raises(perfsim.PerfsimInputError, match=r"trace=True"):
        result.to_chrome_trace(tmp_path / "t.json")
    assert not (tmp_path / "t.json").exists()


def test_chrome_trace_is_written(tmp_path):
    result = perfsim.simulate_serving(LLAMA, H100, closed(4, num_requests=12), trace=True, replicas=2)
    path = tmp_path / "trace.json"
    result.to_chrome_trace(path)
    data = json.loads(path.read_text())
    events = data["traceEvents"]
    assert events and len(events) <= result.iterations
    assert {e["name"] for e in events} <= {"decode", "prefill", "mixed"}
    assert {e["pid"] for e in events} == {0, 1}
    assert all(e["ph"] == "X" and e["dur"] > 0 for e in events)
    for pid in (0, 1):  # one replica's iterations never overlap
        mine = sorted((e["ts"], e["dur"]) for e in events if e["pid"] == pid)
        assert all(a + d <= b + 1e-6 for (a, d), (b, _) in zip(mine, mine[1:], strict=False))


def test_goodput():
    result = perfsim.simulate_serving(LLAMA, H100, perfsim.Poisson(20.0, num_requests=100, prompt_len=512,
                                                                   output_len=64))
    summary = result.summary()
    assert result.goodput(1e9, 1e9) == pytest.approx(summary["requests_per_s"])
    assert result.goodput() == pytest.approx(summary["requests_per_s"])
    assert result.goodput(ttft_slo_s=1e-9) == 0.0
    mid = summary["ttft_p50_s"]
    assert 0 < result.goodput(ttft_slo_s=mid) <= summary["requests_per_s"]
    assert result.goodput(ttft_slo_s=mid, tpot_slo_s=summary["tpot_p50_s"]) <= result.goodput(ttft_slo_s=mid)
    with_slo = result.summary(ttft_slo_s=mid, tpot_slo_s=1.0)
    assert with_slo["goodput_req_s"] == pytest.approx(result.goodput(mid, 1.0))
    assert "goodput_req_s" not in summary


def test_summary_and_requests_columns_are_consistent():
    result = perfsim.simulate_serving(LLAMA, H100, closed(4, num_requests=40, output_len=(1, 64)))
    r, s = result.requests, result.summary()
    assert list(r.columns) == ["arrival_s", "first_token_s", "finish_s", "prompt_tokens", "output_tokens",
                               "preemptions", "replica", "ttft_s", "e2e_s", "tpot_s"]
    assert s["ttft_mean_s"] == pytest.approx(r.ttft_s.mean())
    assert s["ttft_p50_s"] <= s["ttft_p90_s"] <= s["ttft_p99_s"]
    assert s["e2e_mean_s"] == pytest.approx(r.e2e_s.mean())
    assert s["tpot_mean_s"] == pytest.approx(r.tpot_s.dropna().mean())
    assert s["throughput_tok_s"] == pytest.approx(r.output_tokens.sum() / s["duration_s"])
    assert s["duration_s"] == pytest.approx(r.finish_s.max() - r.arrival_s.min())
    assert s["iterations"] == result.iterations > 0
    assert 0 < s["itl_p50_s"] <= s["itl_p99_s"]
    pd.testing.assert_series_equal(r.e2e_s, r.finish_s - r.arrival_s, check_names=False)


def test_progress_callback_reaches_total():
    calls = []
    perfsim.simulate_serving(LLAMA, H100, closed(4, num_requests=250, output_len=16),
                             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (250, 250)
    assert {total for _, total in calls} == {250}
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert 50 <= len(calls) <= 130  # about every 1 %


def test_progress_callback_keeps_closed_loop_running():
    """The progress wrapper must chain the closed loop's own completion callback."""
    calls = []
    result = perfsim.simulate_serving(LLAMA, H100, closed(2, num_requests=7, output_len=8),
                                      progress=lambda done, total: calls.append(done))
    assert result.summary()["requests_completed"] == 7 and calls[-1] == 7


# --------------------------------------------------------------------------- errors


def test_request_longer_than_max_model_len():
    with pytest.raises(perfsim.PerfsimInputError, match="above max_model_len 1024 of llama-3.1-8b"):
        perfsim.simulate_serving(LLAMA, H100, closed(1, prompt_len=1000, output_len=100),
                                 perfsim.EngineConfig(max_model_len=1024))


def test_model_that_leaves_no_kv_room():
    with pytest.raises(perfsim.PerfsimInputError, match="qwen3-32b leaves no room for a KV cache on l4"):
        perfsim.simulate_serving("qwen3-32b", "l4", closed(1))


def test_request_bigger_than_the_kv_pool():
    with pytest.raises(perfsim.PerfsimInputError, match=r"needs \d+ KV blocks but the pool has \d+"):
        perfsim.simulate_serving("qwen3-0.6b", "l4", closed(1, prompt_len=30000, output_len=10),
                                 perfsim.EngineConfig(gpu_memory_utilization=0.1))


def test_without_chunked_prefill_the_token_budget_must_cover_a_request():
    with pytest.raises(perfsim.PerfsimInputError, match="with whole-prompt prefills"):
        perfsim.simulate_serving(LLAMA, H100, closed(1, prompt_len=3000, output_len=10),
                                 perfsim.EngineConfig(chunked_prefill=False, max_batched_tokens=2048))


@pytest.mark.parametrize("fields, match", [
    (dict(gpu_memory_utilization=1.5),
     r"gpu_memory_utilization must be a number above 0 and at most 1 \(got 1.5\)"),
    (dict(gpu_memory_utilization=0.0), r"gpu_memory_utilization must be a number above 0 and at most 1"),
    (dict(scheduler="x"), "unknown scheduler 'x'; allowed: guaranteed_no_evict, prefill_first, vllm"),
    (dict(block_size=0), "block_size must be an integer from 1 to"),
    (dict(max_num_seqs=-1), "max_num_seqs must be an integer from 1 to"),
    (dict(max_batched_tokens=-5), "max_batched_tokens must be an integer from 1 to"),
    (dict(step_overhead_s=-1.0), r"step_overhead_s \(seconds\) must be a number from 0 to"),
    (dict(max_model_len=10**7), r"max_model_len must be in 1\.\.131072 for llama-3.1-8b"),
])
def test_bad_engine_config(fields, match):
    with pytest.raises(perfsim.PerfsimInputError, match="engine: " + match):
        perfsim.simulate_serving(LLAMA, H100, closed(1), perfsim.EngineConfig(**fields))


def test_zero_max_num_seqs_is_rejected():
    with pytest.raises(perfsim.PerfsimInputError, match="max_num_seqs must be an integer from 1 to"):
        perfsim.simulate_serving(LLAMA, H100, closed(1), perfsim.EngineConfig(max_num_seqs=0))


def test_engine_defaults_follow_vllm():
    big = perfsim.simulate_serving(LLAMA, H100, closed(1, num_requests=1)).meta
    small = perfsim.simulate_serving(LLAMA, "a10g", closed(1, num_requests=1)).meta
    assert (big["max_num_seqs"], big["max_batched_tokens"], big["block_size"]) == (1024, 8192, 16)
    assert (small["max_num_seqs"], small["max_batched_tokens"]) == (256, 2048)


def test_unknown_router():
    with pytest.raises(perfsim.PerfsimInputError, match="unknown router 'random'; allowed: "
                                                        "least_outstanding, round_robin"):
        perfsim.simulate_serving(LLAMA, H100, closed(1), router="random")


@pytest.mark.parametrize("workload", [None, "poisson", {"rate": 1.0}, [1, 2, 3]])
def test_workload_must_be_a_workload(workload):
    with pytest.raises(perfsim.PerfsimInputError, match="workload must be a perfsim workload"):
        perfsim.simulate_serving(LLAMA, H100, workload)


@pytest.mark.parametrize("replicas", [0, -1, 1.5])
def test_bad_replica_count(replicas):
    with pytest.raises(perfsim.PerfsimInputError, match="replicas must be a positive integer"):
        perfsim.simulate_serving(LLAMA, H100, closed(1), replicas=replicas)


def test_unknown_decoding_and_unknown_ids():
    with pytest.raises(perfsim.PerfsimInputError, match="unknown decoding 'magic'"):
        perfsim.simulate_serving(LLAMA, H100, closed(1), decoding="magic")
    with pytest.raises(perfsim.PerfsimInputError):
        perfsim.simulate_serving("no-such-model", H100, closed(1))
    with pytest.raises(perfsim.PerfsimInputError):
        perfsim.simulate_serving(LLAMA, "no-such-gpu", closed(1))


def test_prefill_first_with_prompt_over_token_budget_fails_cleanly():
    workload = closed(2, num_requests=4, prompt_len=3000, output_len=8)
    with pytest.raises(perfsim.PerfsimInputError, match="whole-prompt prefills"):
        perfsim.simulate_serving("qwen3-0.6b", "l4", workload,
                                 perfsim.EngineConfig(scheduler="prefill_first", max_batched_tokens=2048))
    # by default a whole-prompt scheduler's budget covers max_model_len, so the run completes
    result = perfsim.simulate_serving("qwen3-0.6b", "l4", workload,
                                      perfsim.EngineConfig(scheduler="prefill_first"))
    assert result.summary()["requests_completed"] == 4


def test_token_budget_below_verify_width_fails_cleanly():
    with pytest.raises(perfsim.PerfsimInputError):
        perfsim.simulate_serving("qwen3-0.6b", "l4", closed(2, num_requests=4, prompt_len=30, output_len=8),
                                 perfsim.EngineConfig(max_batched_tokens=2), Speculative(k=3, acceptance=0.6))


def test_trace_rows_are_checked_individually_against_max_model_len(tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("arrival_s,prompt_tokens,output_tokens\n0,2000,10\n0.1,10,2000\n")
    engine = perfsim.EngineConfig(max_model_len=2048)
    result = perfsim.simulate_serving(LLAMA, H100, perfsim.Trace(path), engine)
    assert result.summary()["requests_completed"] == 2

