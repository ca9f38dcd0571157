"""Golden cells of TensorRT-LLM v0.17's published maximum-throughput table (real GPUs; the whole
table is benchmarks/fidelity_trtllm.py): the simulator with `EngineConfig.tensorrt_llm()` must stay
within 30 % on each and 15 % at the median. Nothing is fitted to these numbers."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfsim
from perfsim.graph import Execution
from perfsim.sim import Batch, EngineConfig
from perfsim.transforms import ActivationDType, KVCacheDType, WeightDType, apply_transforms

TABLE = Path(__file__).parents[2] / "benchmarks" / "data" / "trtllm_v0.17_throughput.csv"
PROFILES = {"h100": "h100-sxm", "h200": "h200-sxm", "l40s": "l40s", "a100": "a100-sxm-80gb"}
# (model, TP, ISL, OSL, GPU, requests in the benchmark's dataset)
CELLS = [
    ("llama-3.1-8b", 1, 128, 2048, "h100", 3000),
    ("llama-3.1-70b", 2, 2048, 2048, "h100", 1500),
    ("llama-3.1-70b", 8, 128, 4096, "h100", 1500),
    ("mixtral-8x7b", 2, 2048, 2048, "h100", 1500),
    ("mixtral-8x22b", 8, 5000, 500, "h100", 1500),
    ("llama-3.1-405b", 8, 128, 4096, "h200", 1500),
    ("mistral-7b", 1, 20000, 2000, "a100", 1000),
    ("llama-3.1-8b", 1, 5000, 500, "l40s", 1500),
]
FP8 = [WeightDType("fp8"), ActivationDType("fp8"), KVCacheDType("fp8")]


def published(model, tp, isl, osl, gpu) -> float:
    table = pd.read_csv(TABLE, comment="#")
    row = table[(table.model == model) & (table.tp == tp) & (table.isl == isl) & (table.osl == osl)]
    return float(row[gpu].iloc[0])


def simulated(model, tp, isl, osl, gpu, requests) -> float:
    spec = perfsim.load_model(model) if gpu == "a100" else apply_transforms(model, FP8)  # A100 ran FP16
    workload = Batch(np.full(requests, isl), np.full(requests, osl))
    result = perfsim.simulate_serving(spec, PROFILES[gpu], workload,
                                      EngineConfig.tensorrt_llm(max_model_len=isl + osl),
                                      execution=Execution(tensor_parallel=tp))
    return result.summary()["throughput_tok_s"]


@pytest.fixture(scope="module")
def ratios():
    return {cell: simulated(*cell) / published(*cell[:5]) for cell in CELLS}


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[4]}-{c[0]}-tp{c[1]}-{c[2]}/{c[3]}")
def test_cell_within_30_percent(ratios, cell):
    assert ratios[cell] == pytest.approx(1.0, abs=0.30)


def test_median_within_15_percent(ratios):
    assert abs(float(np.median(list(ratios.values()))) - 1) < 0.15
