"""Edge runtimes (issue 19 item 3): TensorRT Edge-LLM and vLLM on Jetson load, inherit what they do
not change, carry batch-1 host costs fitted by the committed script, and cost more host time on a
Jetson's Arm cores than vLLM does on a data-centre host."""

import pytest

import perfsim
from perfsim.io.catalog import list_ids

SCRIPT = "benchmarks/fit_runtime_host.py"


@pytest.mark.parametrize("rid", ["tensorrt-edge-llm", "vllm-jetson", "llama.cpp", "mlc-llm"])
def test_edge_runtime_loads_with_fitted_host_costs(rid):
    assert rid in list_ids("runtimes")
    rt = perfsim.load_runtime(rid)
    assert rt.id == rid and rt.host.per_step is not None
    assert rt.host.per_step.fitted_by == SCRIPT
    assert "runtime_measurements.csv" in rt.host.per_step.source and "LOO" in rt.host.per_step.source


def test_vllm_jetson_inherits_vllm_kernels_and_scheduler():
    base, jet = perfsim.load_runtime("vllm"), perfsim.load_runtime("vllm-jetson")
    assert (
        jet.kernels == base.kernels
        and jet.scheduler == base.scheduler
        and jet.cuda_graphs == base.cuda_graphs
    )
    assert jet.host.per_step.value_s > base.host.per_step.value_s  # Arm host is slower per step


def test_tensorrt_edge_llm_is_a_static_batch_with_decode_graphs():
    rt = perfsim.load_runtime("tensorrt-edge-llm")
    assert rt.cuda_graphs.enabled and not rt.scheduler.chunked_prefill
    assert rt.scheduler.policy == "prefill_first"


@pytest.mark.parametrize("rid", ["tensorrt-edge-llm", "vllm-jetson"])
def test_host_costs_slow_a_jetson_decode_step(rid):
    model = perfsim.apply_transforms(
        perfsim.load_model("qwen3-8b"), [perfsim.transforms.WeightDType("int4_awq")]
    )
    free = perfsim.decode_step(model, "jetson-agx-orin-64gb", 1, 512).latency_s
    with_rt = perfsim.decode_step(model, "jetson-agx-orin-64gb", 1, 512, runtime=rid).latency_s
    assert with_rt > free
