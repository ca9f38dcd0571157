"""The headline what-if report: bundled models x devices at one workload, as a DataFrame."""

from __future__ import annotations

import pandas as pd

from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.memory import PREFILL_CHUNK_TOKENS
from perfsim.cost.params import model_params
from perfsim.cost.request import generate, memory
from perfsim.cost.runtime import RuntimeLike
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model

DEFAULT_MODELS = (
    "llama-3.1-8b", "qwen3-8b", "nemotron-h-8b", "nemotron-nano-9b-v2",
    "qwen3-30b-a3b", "gpt-oss-20b", "qwen3-1.7b", "nemotron-flash-3b",
)
DEFAULT_HARDWARE = ("h100-sxm", "a10g", "jetson-agx-orin-64gb")


def headline_report(models=DEFAULT_MODELS, hardware=DEFAULT_HARDWARE, prompt_len: int = 1024,
                    output_len: int = 256, runtime: RuntimeLike = None) -> pd.DataFrame:
    """Batch-1 latency, max-batch throughput and memory fit for each model on each device, under
    `runtime` (its host costs, kernels, prefill chunking and max running sequences)."""
    rows = []
    for model in map(load_model, models):
        context = prompt_len + output_len + model.prefix_tokens  # meta tokens are cached too
        params = model_params(model)
        for hw in map(load_hardware, hardware):
            row = {"model": model.id, "hardware": hw.id, "params_b": params.total / 1e9,
                   "active_params_b": params.active / 1e9}
            single = memory(model, hw, 1, context, runtime=runtime)
            if not single.fits:
                rows.append({**row, "fits": False,
                             "weights_gb": single.weights_bytes / 1e9, "max_batch": 0})
                continue
            one = generate(model, hw, 1, prompt_len, output_len, runtime=runtime)
            try:
                peak = max_batch_throughput(model, hw, prompt_len, output_len, runtime=runtime)
                max_batch, peak_tps = peak.batch, peak.result.tokens_per_s
            except PerfsimInputError:
                max_batch = memory(model, hw, 1, context, runtime=runtime,
                                   prefill_chunk_tokens=PREFILL_CHUNK_TOKENS).max_batch
                peak_tps = float("nan")
            rows.append({**row, "fits": True, "weights_gb": single.weights_bytes / 1e9,
                         "ttft_ms": one.ttft_s * 1e3, "tpot_ms": one.tpot_s * 1e3,
                         "tokens_per_s_bs1": one.tokens_per_s, "max_batch": max_batch,
                         "tokens_per_s_max_batch": peak_tps})
    return pd.DataFrame(rows)
