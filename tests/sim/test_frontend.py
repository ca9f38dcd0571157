"""The API server in front of each replica (perfsim.sim.frontend): per-request host time before the
engine sees a request, served in arrival order."""

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
    """At one request in flight the server is always free: TTFT grows by exactly the service time,
    decode is untouched."""
    load = perfsim.ClosedLoop(1, prompt_len=256, output_len=32, num_requests=6)
    base, slow = _serve(load).requests, _serve(load, service_ms / 1e3).requests
    assert np.allclose(slow.ttft_s - base.ttft_s, service_ms / 1e3, rtol=1e-9, atol=1e-12)
    assert np.allclose(slow.finish_s - slow.first_token_s, base.finish_s - base.first_token_s)


def test_a_burst_queues_at_the_server_in_arrival_order():
    """16 requests arriving together reach the engine 5 ms apart: the last one's TTFT includes 16
    service times, so the spread of TTFT is at least 15 of them."""
    load = perfsim.ClosedLoop(16, prompt_len=128, output_len=8, num_requests=16)
    ttft = _serve(load, 0.005).requests.sort_values("arrival_s").ttft_s
    assert ttft.max() >= 16 * 0.005 and ttft.max() - ttft.min() >= 15 * 0.005 - 1e-9


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
