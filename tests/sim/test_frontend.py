"""The API server in front of each replica (perfsim.sim.frontend): per-request host time before the
engine sees a request."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import perfsim
from perfsim.cli import app
from perfsim.io.load import load_runtime
from perfsim.spec.runtime import RuntimeProfile

LLAMA, H100 = "llama-3.1-8b", "h100-sxm"


def _serve(workload, api_server_s=0.0, **kw):
    engine = perfsim.EngineConfig(api_server_s=api_server_s)
    return perfsim.simulate_serving(LLAMA, H100, workload, engine, **kw)


@settings(max_examples=6, deadline=None)
@given(service_ms=st.floats(0.1, 50.0))
def test_one_client_pays_the_service_time_once_per_request(service_ms):
    """At one request in flight TTFT grows by exactly the per-request time,
    decode is untouched. Kernel physics alone (runtime=None): the bundled vllm runtime has its own
    per-request cost, which an EngineConfig left at 0 would inherit."""
    load = perfsim.ClosedLoop(1, prompt_len=256, output_len=32, num_requests=6)
    base = _serve(load, runtime=None).requests
    slow = _serve(load, service_ms / 1e3, runtime=None).requests
    assert np.allclose(slow.ttft_s - base.ttft_s, service_ms / 1e3, rtol=1e-9, atol=1e-12)
    assert np.allclose(slow.finish_s - slow.first_token_s, base.finish_s - base.first_token_s)


def test_a_burst_reaches_the_engine_one_delay_later_with_no_queue_at_the_server():
    """16 requests arriving together reach the engine together, one API-server delay later: every
    TTFT grows by exactly the delay (the frontend caps no throughput the data do not show)."""
    load = perfsim.ClosedLoop(16, prompt_len=128, output_len=8, num_requests=16)
    base = _serve(load, runtime=None).requests.sort_values("arrival_s")
    slow = _serve(load, 0.005, runtime=None).requests.sort_values("arrival_s")
    assert np.allclose(slow.ttft_s.to_numpy() - base.ttft_s.to_numpy(), 0.005, rtol=1e-9, atol=1e-12)


def test_zero_cost_bypasses_the_server():
    load = perfsim.Poisson(4.0, num_requests=40, prompt_len=256, output_len=32)
    a, b = _serve(load, runtime=None), perfsim.simulate_serving(LLAMA, H100, load, runtime=None)
    assert a.requests.equals(b.requests) and a.meta["api_server_s"] == 0.0


def test_a_runtime_per_request_cost_is_the_engine_default_and_the_caller_wins():
    data = load_runtime("vllm").model_dump(exclude_unset=True)
    data["id"] = "vllm-api"
    data.setdefault("host", {})["per_request"] = {"value_s": 0.004, "source": "test"}
    runtime = RuntimeProfile.model_validate(data)
    load = perfsim.ClosedLoop(1, prompt_len=256, output_len=8, num_requests=4)
    assert perfsim.simulate_serving(LLAMA, H100, load, runtime=runtime).meta["api_server_s"] == 0.004
    assert _serve(load, 0.001, runtime=runtime).meta["api_server_s"] == 0.001
    assert _serve(load, 0.0, runtime=runtime).meta["api_server_s"] == 0.0  # 0 turns it off


def test_the_bundled_vllm_cost_is_paid_by_default():
    load = perfsim.ClosedLoop(1, prompt_len=256, output_len=8, num_requests=4)
    meta = perfsim.simulate_serving(LLAMA, H100, load).meta
    assert meta["runtime"] == "vllm" and meta["api_server_s"] == load_runtime("vllm").host.per_request.value_s


@pytest.mark.parametrize("bad", [-0.001, float("nan"), float("inf"), 1e9])
def test_bad_api_server_time_is_one_sentence(bad):
    with pytest.raises(perfsim.PerfsimInputError, match="api_server_s"):
        perfsim.EngineConfig(api_server_s=bad)


def test_cli_flag_and_its_bound():
    runner = CliRunner()
    ok = runner.invoke(app, ["simulate", "-m", LLAMA, "-h", H100, "--workload", "closed_loop",
                             "--concurrency", "1", "--num-requests", "4", "--api-server-s", "0.003",
                             "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert '"api_server_s": 0.003' in ok.output
    bad = runner.invoke(app, ["simulate", "-m", LLAMA, "-h", H100, "--api-server-s", "-1"])
    assert bad.exit_code == 2 and "--api-server-s" in bad.output


def test_an_offline_batch_has_no_api_server():
    """Batch is an in-process offline engine (LLM.generate, RL rollouts): a runtime's per-request
    API-server cost does not apply, so every request is admitted at time 0."""
    data = load_runtime("vllm").model_dump(exclude_unset=True)
    data["id"] = "vllm-api"
    data.setdefault("host", {})["per_request"] = {"value_s": 0.05, "source": "test"}
    runtime = RuntimeProfile.model_validate(data)
    batch = perfsim.sim.Batch(np.full(8, 128), np.full(8, 16))
    result = perfsim.simulate_serving(LLAMA, H100, batch, runtime=runtime)
    assert result.meta["api_server_s"] == 0.0
    # one prefill of 8 x 128 tokens, no API server: the same TTFT as with no per-request cost at all
    del data["host"]["per_request"]
    bare = perfsim.simulate_serving(LLAMA, H100, batch, runtime=RuntimeProfile.model_validate(data))
    np.testing.assert_allclose(result.requests.ttft_s, bare.requests.ttft_s, rtol=1e-12)
    assert result.requests.ttft_s.max() < 0.1
    served = perfsim.simulate_serving(LLAMA, H100, perfsim.ClosedLoop(8, 128, 16, num_requests=8),
                                      runtime=runtime)
    assert served.meta["api_server_s"] == 0.05 and served.requests.ttft_s.min() >= 0.05
