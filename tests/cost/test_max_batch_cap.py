"""Max-batch throughput under a runtime never batches beyond the runtime's max running sequences."""

from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.runtime import max_running_seqs
from perfsim.io.load import load_hardware, load_model, load_runtime


def test_runtime_caps_the_max_batch():
    """Nemotron-Flash-1B fits hundreds of 1k-token sequences on an H100; TensorRT AutoDeploy runs 8
    (its max_batch_size default), vLLM 1024 (its rule for >= 70 GiB GPUs)."""
    model, hw = load_model("nemotron-flash-1b"), load_hardware("h100-sxm")
    free = max_batch_throughput(model, hw, 512, 512)
    autodeploy = max_batch_throughput(model, hw, 512, 512, runtime="trt-autodeploy")
    assert free.batch > 8 and autodeploy.batch == 8 == max_running_seqs(load_runtime("trt-autodeploy"), hw)
    assert max_running_seqs(load_runtime("vllm"), hw) == 1024
    assert max_running_seqs(load_runtime("vllm"), load_hardware("a10g")) == 256
    capped = max_batch_throughput(model, hw, 512, 512, runtime="vllm", batch_ceiling=16)
    assert capped.batch == 16  # the tighter of the caller's ceiling and the runtime's cap


def test_batch_evaluator_uses_the_same_cap():
    """The frontier/sweep `max_batch` column agrees with max_batch_throughput under a runtime."""
    from perfsim.cost.batch import evaluate_workloads

    model, hw = load_model("nemotron-flash-1b"), load_hardware("h100-sxm")
    columns = evaluate_workloads(model, hw, 1, 512, 512, runtime="trt-autodeploy")
    assert int(columns["max_batch"][0]) == 8
    assert int(evaluate_workloads(model, hw, 1, 512, 512)["max_batch"][0]) > 8
