"""What a model change buys on a device: base vs variant, per token and per request.

Per-token speed-ups (TTFT, TPOT, tokens/s) can mislead when the variant writes longer or
shorter answers, so request-level rows use each model's own output length: requests/s =
tokens/s / tokens per request (gpt-oss-puzzle's request-level efficiency, papers.md 6b).
Throughput is at the largest batch that fits each model (continuous batching with chunked
prefill, so activations are one chunk's), unless a batch is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfsim.cost.max_batch import max_batch_throughput
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.cost.params import model_params
from perfsim.cost.request import generate
from perfsim.cost.runtime import DEFAULT_RUNTIME, RuntimeLike, load_runtime_like, resolve_execution
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model
from perfsim.sim import Batch, EngineConfig, simulate_serving
from perfsim.spec.deployment import Execution

#: Batch ceiling when searching the best throughput (vLLM's max_num_seqs on large GPUs).
MAX_BATCH = 1024


def _throughput(model, hw, prompt: int, output: int, execution: Execution, batch: int | None,
                runtime: RuntimeLike = None):
    """The shared max-batch throughput with compare's own choices: context prompt + output (meta
    tokens not counted), the batch capped at MAX_BATCH and the best of the powers of two below it."""
    return max_batch_throughput(model, hw, prompt, output, context_len=prompt + output, execution=execution,
                                batch=batch, batch_ceiling=MAX_BATCH, powers_of_two=True, runtime=runtime)


def compare(base, variant, hw, *, prompt_len: int = 1024, output_len: int = 1024,
            variant_output_len: int | None = None, batch: int | None = None,
            execution: Execution | None = None, runtime=DEFAULT_RUNTIME) -> pd.DataFrame:
    """One row per metric: base, variant, variant/base and `gain` (> 1: the variant is better:
    a speed-up for times and rates, a reduction factor for memory). `runtime` (id, path or
    RuntimeProfile; None: runtime-free) runs both models as that runtime does on `hw`."""
    base, variant, hw = load_model(base), load_model(variant), load_hardware(hw)
    runtime = load_runtime_like(runtime)
    execution = resolve_execution(runtime, hw, execution)
    out_b, out_v = output_len, variant_output_len or output_len
    tp = execution.tensor_parallel
    rows: list[tuple[str, str, float, float, bool | None]] = []  # name, unit, base, variant, higher better

    pb, pv = model_params(base), model_params(variant)
    rows += [("parameters", "1e9", pb.total / 1e9, pv.total / 1e9, None),
             ("active parameters", "1e9", pb.active / 1e9, pv.active / 1e9, None)]
    peak_b = _throughput(base, hw, prompt_len, out_b, execution, batch, runtime)
    peak_v = _throughput(variant, hw, prompt_len, out_v, execution, batch, runtime)
    (best_b, bb, mem_b), (best_v, bv, mem_v) = ((p.result, p.batch, p.memory) for p in (peak_b, peak_v))
    one_b = generate(base, hw, 1, prompt_len, out_b, execution=execution, check_memory=False, runtime=runtime)
    one_v = generate(variant, hw, 1, prompt_len, out_v, execution=execution, check_memory=False,
                     runtime=runtime)
    rows += [
        ("weights per GPU", "GB", mem_b.weights_bytes / 1e9, mem_v.weights_bytes / 1e9, False),
        ("KV cache per sequence", "GB", kv_bytes_per_seq(base, prompt_len + out_b, tp) / 1e9,
         kv_bytes_per_seq(variant, prompt_len + out_v, tp) / 1e9, False),
        ("recurrent state per sequence", "MB", mem_b.state_bytes_per_seq / 1e6,
         mem_v.state_bytes_per_seq / 1e6,
         False),
        ("max batch at full context", "seqs", mem_b.max_batch, mem_v.max_batch, True),
        ("TTFT at batch 1", "s", one_b.ttft_s, one_v.ttft_s, False),
        ("TPOT at batch 1", "ms", one_b.tpot_s * 1e3, one_v.tpot_s * 1e3, False),
        ("tokens per request", "tokens", out_b, out_v, None),
        ("request latency at batch 1", "s", one_b.e2e_s, one_v.e2e_s, False),
        ("batch used for throughput", "seqs", bb, bv, None),
        ("throughput per GPU", "tokens/s", best_b.tokens_per_s / tp, best_v.tokens_per_s / tp, True),
        ("request rate per GPU", "requests/s", best_b.requests_per_s / tp, best_v.requests_per_s / tp, True),
    ]
    name_v = variant.id if variant.id != base.id else f"{variant.id} (variant)"
    frame = pd.DataFrame(rows, columns=["metric", "unit", base.id, name_v, "higher_is_better"])
    b, v = frame[base.id].astype(float), frame[name_v].astype(float)
    frame["variant_over_base"] = v / b
    better = frame["higher_is_better"]
    frame["gain"] = [(vv / bb_ if hb else bb_ / vv) if hb is not None and bb_ and vv else float("nan")
                        for bb_, vv, hb in zip(b, v, better, strict=True)]
    frame.attrs.update(hardware=hw.id, prompt_len=prompt_len, output_len=out_b, variant_output_len=out_v,
                       tensor_parallel=tp)
    return frame.drop(columns="higher_is_better")


def gain(frame: pd.DataFrame, metric: str) -> float:
    """The gain of `metric` in a compare() table (> 1: variant better)."""
    return float(frame.loc[frame.metric == metric, "gain"].iloc[0])


def offline_throughput_per_gpu(model, hw, prompt_len: int, output_len: int, *, requests: int = 3000,
                               engine: EngineConfig | None = None,
                               tensor_parallel: tuple[int, ...] = (1, 2, 4, 8),
                               runtime: RuntimeLike = "trtllm-bench") -> tuple[float, int, float]:
    """(output tokens/s per GPU, TP, mean running batch) of `requests` identical requests queued at
    once on one TP group (simulated), at the TP degree that maximises tokens/s per GPU: the
    'optimal number of GPUs' normalisation of NVIDIA's Puzzle figures. The default runtime is
    TensorRT-LLM's throughput benchmark (runtimes/trtllm-bench.yaml), the recipe of those figures."""
    model, hw = load_model(model), load_hardware(hw)
    engine = engine or EngineConfig(max_model_len=prompt_len + output_len)
    workload = Batch(np.full(requests, prompt_len), np.full(requests, output_len))
    best, why = None, ""
    for tp in tensor_parallel:
        try:
            summary = simulate_serving(model, hw, workload, engine, runtime=runtime,
                                       execution=Execution(tensor_parallel=tp)).summary()
        except PerfsimInputError as err:
            why = str(err)  # does not fit (or TP does not divide the heads) at this degree
            continue
        candidate = (summary["throughput_tok_s"] / tp, tp, summary["running_mean"])
        best = candidate if best is None or candidate[0] > best[0] else best
    if best is None:
        raise PerfsimInputError(f"{model.id} fits {hw.id} at no tensor-parallel degree in {tensor_parallel} "
                                f"(at TP{tensor_parallel[-1]}: {why})")
    return best
