"""Golden cells of TensorRT-LLM v0.17's published maximum-throughput table (real GPUs; the whole
table is benchmarks/fidelity_trtllm.py): the simulator with `EngineConfig.tensorrt_llm()` must stay
within 30 % on each and 15 % at the median. Nothing is fitted to these numbers."""

import numpy as np
import pandas as pd
import pytest

from perfsim import apply_transforms
from perfsim.explore.compare import offline_throughput_per_gpu
from perfsim.transforms import FP8_W8A8

TABLE = "trtllm_v0.17_throughput.csv"  # benchmarks/data/, shared with benchmarks/fidelity_trtllm.py
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


def published(table, model, tp, isl, osl, gpu) -> float:
    row = table[(table.model == model) & (table.tp == tp) & (table.isl == isl) & (table.osl == osl)]
    return float(row[gpu].iloc[0])


def simulated(model, tp, isl, osl, gpu, requests) -> float:
    spec = model if gpu == "a100" else apply_transforms(model, FP8_W8A8)  # A100 ran FP16
    per_gpu, _, _ = offline_throughput_per_gpu(spec, PROFILES[gpu], isl, osl, requests=requests,
                                               tensor_parallel=(tp,))
    return per_gpu * tp


@pytest.fixture(scope="module")
def ratios(data_file):
    table = pd.read_csv(data_file(TABLE), comment="#")
    return {cell: simulated(*cell) / published(table, *cell[:5]) for cell in CELLS}


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[4]}-{c[0]}-tp{c[1]}-{c[2]}/{c[3]}")
def test_cell_within_30_percent(ratios, cell):
    assert ratios[cell] == pytest.approx(1.0, abs=0.30)


def test_median_within_15_percent(ratios):
    assert abs(float(np.median(list(ratios.values()))) - 1) < 0.15
