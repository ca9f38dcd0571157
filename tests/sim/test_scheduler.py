"""Schedulers under KV pressure: vLLM's optimistic admission preempts, TensorRT-LLM's
GUARANTEED_NO_EVICT holds each request's lifetime blocks and never does; the TensorRT-LLM KV
budget is a share of the memory left free."""

import numpy as np
import pytest

import perfsim
from perfsim.cost.memory import kv_bytes_per_token
from perfsim.decoding import Speculative
from perfsim.io.load import load_hardware, load_model
from perfsim.sim import Batch

MODEL, HW = "qwen3-0.6b", "l4"
PROMPT, OUTPUT, REQUESTS = 512, 1024, 200


def offline(scheduler, **engine):
    config = perfsim.EngineConfig(scheduler=scheduler, gpu_memory_utilization=0.12, **engine)
    workload = Batch(np.full(REQUESTS, PROMPT), np.full(REQUESTS, OUTPUT))
    return perfsim.simulate_serving(MODEL, HW, workload, config)


def test_no_evict_never_preempts_where_vllm_does():
    vllm, no_evict = offline("vllm"), offline("guaranteed_no_evict")
    assert vllm.summary()["preemptions"] > 0
    assert no_evict.summary()["preemptions"] == 0
    assert no_evict.summary()["requests_completed"] == REQUESTS


def test_no_evict_batch_is_the_pool_over_lifetime_blocks():
    result = offline("guaranteed_no_evict", block_size=16)
    lifetime_blocks = -(-(PROMPT + OUTPUT) // 16)
    bound = result.meta["kv_blocks"] // lifetime_blocks
    running = result.timeseries.running
    assert running.max() == bound  # admission fills the pool exactly, never beyond
    # vLLM admits on the prompt alone, so it starts with more running than the guarantee allows
    assert offline("vllm", block_size=16).timeseries.running.max() > bound


def test_no_evict_with_speculative_decoding_reserves_the_verify_slots():
    config = perfsim.EngineConfig(scheduler="guaranteed_no_evict", gpu_memory_utilization=0.12)
    workload = Batch(np.full(60, PROMPT), np.full(60, OUTPUT))
    result = perfsim.simulate_serving(MODEL, HW, workload, config, Speculative(k=3, acceptance=0.7),
                                      seed=3)
    assert result.summary()["preemptions"] == 0
    assert result.summary()["requests_completed"] == 60


def test_kv_cache_free_fraction_scales_the_free_memory():
    workload = Batch(np.full(4, 128), np.full(4, 16))

    def pool(fraction):
        config = perfsim.EngineConfig(kv_cache_free_fraction=fraction)
        return perfsim.simulate_serving(MODEL, HW, workload, config).meta["kv_pool_bytes"]

    assert pool(0.5) == pytest.approx(pool(1.0) / 2)
    hw, model = load_hardware(HW), load_model(MODEL)
    full, _ = kv_bytes_per_token(model)
    # the free memory is the usable memory less weights, activations and the runtime: at fraction 1
    # it is at most the usable memory, and more than what vLLM's 0.9 x capacity leaves
    vllm = perfsim.simulate_serving(MODEL, HW, workload, perfsim.EngineConfig()).meta["kv_pool_bytes"]
    assert vllm < pool(1.0) < hw.memory.usable_bytes
    assert pool(1.0) - vllm == pytest.approx(hw.memory.usable_bytes - 0.9 * hw.memory.capacity_bytes,
                                             abs=full * 16)


@pytest.mark.parametrize("fraction", [0.0, 1.5])
def test_kv_cache_free_fraction_range(fraction):
    message = r"engine: kv_cache_free_fraction must be a number above 0 and at most 1"
    with pytest.raises(perfsim.PerfsimInputError, match=message):
        perfsim.simulate_serving(MODEL, HW, Batch(np.array([8]), np.array([8])),
                                 perfsim.EngineConfig(kv_cache_free_fraction=fraction))
