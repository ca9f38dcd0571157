"""AppTest: the deployment inputs (runtime from the catalogue, tensor parallelism, replicas,
serving-engine knobs) reach every prediction as `runtime=` / `execution=` / `engine=`."""

from __future__ import annotations

import pytest

import perfsim
from perfsim.dashboard.fmt import duration, headline_time
from perfsim.io.catalog import list_ids
from perfsim.spec.deployment import Execution

pytestmark = pytest.mark.dashboard


def test_runtime_choices_are_the_runtime_catalogue(app, ui):
    at = ui.run(app)
    assert at.selectbox(key="runtime").options == ["none (runtime-free kernels, no host costs)"] + [
        perfsim.load_runtime(r).display_name for r in list_ids("runtimes")]


def test_runtime_and_tensor_parallelism_change_the_headline_like_the_library(app, ui):
    app.query_params.update({"model": "llama-3.1-70b", "runtime": "vllm", "tp": "4", "batch": "8"})
    at = ui.run(app)
    result = perfsim.generate("llama-3.1-70b", "h100-sxm", 8, 1024, 256, runtime="vllm",
                              execution=Execution(tensor_parallel=4))
    assert ui.metric(at, "TTFT") == headline_time(result.ttft_s)
    assert ui.metric(at, "TPOT") == headline_time(result.tpot_s)
    assert "vllm, TP4" in at.caption[-1].value or any("vllm, TP4" in c.value for c in at.caption)
    assert any("host costs" in m.value for m in at.markdown)  # the runtime's provenance badge


def test_tensor_parallelism_beyond_the_scale_up_domain_is_one_sentence(app, ui):
    at = ui.run(app)
    at = ui.run(at.number_input(key="tp").set_value(16))
    assert [e.value for e in at.sidebar.error] == ["Tensor parallel must be at most 8 (got 16)."]
    assert not at.metric


def test_runtime_that_does_not_run_on_the_device_is_refused(app, ui):
    app.query_params.update({"hw": "cpu-generic", "runtime": "sglang", "model": "qwen3-1.7b"})
    at = ui.run(app)
    sglang = perfsim.load_runtime("sglang")
    assert [e.value for e in at.sidebar.error] == [
        f"{sglang.display_name} does not run on cpu-generic (arch x86-64); it supports "
        f"{', '.join(sglang.archs or ())}."]
    assert not at.metric


def test_engine_knobs_and_replicas_reach_the_serving_simulation(app, ui):
    app.query_params.update({"model": "qwen3-1.7b", "eng_seqs": "8", "replicas": "2", "eng_mem": "0.8"})
    at = ui.run(app, tab="Serving")
    at.number_input(key="srv_rate").set_value(3.0).run()
    at = ui.run(at.number_input(key="srv_requests").set_value(60))
    load = perfsim.Poisson(rate=3.0, num_requests=60, prompt_len=1024, output_len=256)
    result = perfsim.simulate_serving("qwen3-1.7b", "h100-sxm", load,
                                      perfsim.EngineConfig(max_num_seqs=8, gpu_memory_utilization=0.8),
                                      replicas=2, seed=0)
    assert ui.metric(at, "TTFT p50") == duration(result.summary()["ttft_p50_s"])
    assert result.meta["max_num_seqs"] == 8
    assert any("max 8 running sequences" in c.value for c in at.caption)


def test_overload_gets_a_warning(app, ui):
    at = ui.run(app, tab="Serving")
    at.number_input(key="srv_rate").set_value(500.0).run()
    at = ui.run(at.number_input(key="srv_requests").set_value(100))
    assert any(w.value.startswith("Overloaded:") for w in at.warning)


def test_expert_parallelism_changes_the_headline_like_the_library_and_survives_the_url(app, ui):
    app.query_params.update({"model": "mixtral-8x7b", "runtime": "vllm", "tp": "4", "ep": "4",
                             "batch": "4"})
    at = ui.run(app)
    result = perfsim.generate("mixtral-8x7b", "h100-sxm", 4, 1024, 256, runtime="vllm",
                              execution=Execution(tensor_parallel=4, expert_parallel=4))
    sliced = perfsim.generate("mixtral-8x7b", "h100-sxm", 4, 1024, 256, runtime="vllm",
                              execution=Execution(tensor_parallel=4))
    assert headline_time(result.tpot_s) != headline_time(sliced.tpot_s)  # the control matters here
    assert ui.metric(at, "TPOT") == headline_time(result.tpot_s)
    assert any("vllm, TP4 EP4" in c.value for c in at.caption)
    assert at.query_params["ep"] == ["4"] or at.query_params["ep"] == "4"


def test_expert_parallelism_not_dividing_tensor_parallelism_is_one_sentence(app, ui):
    app.query_params.update({"model": "mixtral-8x7b", "tp": "4"})
    at = ui.run(app)
    at = ui.run(at.number_input(key="ep").set_value(3))
    assert [e.value for e in at.sidebar.error] == [
        "Expert parallel must divide tensor parallel (4): one of 1, 2, 4 (got 3)."]
    assert not at.metric


def test_expert_parallelism_on_a_dense_model_is_refused_not_ignored(app, ui):
    app.query_params.update({"model": "llama-3.1-70b", "tp": "4", "ep": "4"})
    at = ui.run(app)
    assert [e.value for e in at.sidebar.error] == [
        "llama-3.1-70b has no MoE layers, so expert parallelism has nothing to place; set it to 1."]
    assert not at.metric


def test_expert_load_imbalance_beyond_expert_parallelism_is_one_sentence(app, ui):
    app.query_params.update({"model": "mixtral-8x7b", "tp": "2", "ep": "2", "ep_imb": "3"})
    at = ui.run(app)
    assert [e.value for e in at.sidebar.error] == [
        "Expert load imbalance must be at most expert parallel (2) (got 3)."]


def test_a_pinned_baseline_keeps_its_expert_parallelism():
    from perfsim.dashboard.baseline import restore, snapshot
    from perfsim.dashboard.codec import pack, unpack
    from perfsim.dashboard.setup import Deployment, Setup
    from perfsim.decoding import Autoregressive

    execution = Execution(tensor_parallel=4, expert_parallel=2, expert_load_imbalance=1.5)
    setup = Setup(model=perfsim.load_model("mixtral-8x7b"), hardware=perfsim.load_hardware("h100-sxm"),
                  batch=2, prompt_len=64, output_len=8, decoding=Autoregressive(),
                  deploy=Deployment(execution=execution), values={"decoding": "autoregressive"})
    assert restore(unpack(pack(snapshot(setup)))).deploy.execution == execution
    old_link = {k: v for k, v in snapshot(setup).items() if k not in ("ep", "ep_imb")}
    assert restore(old_link).deploy.execution == Execution(tensor_parallel=4)  # links from before EP
