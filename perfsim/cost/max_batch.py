"""Throughput at the largest batch that fits: the one max-batch definition, shared by the headline
report, compare, the frontier's batch evaluator and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.cost.memory import PREFILL_CHUNK_TOKENS, MemoryReport
from perfsim.cost.request import RequestResult, _memory, generate
from perfsim.cost.runtime import (
    DEFAULT_RUNTIME,
    RuntimeLike,
    load_runtime_like,
    max_running_seqs,
    prefill_chunk_tokens,
    resolve_deployment,
)
from perfsim.errors import PerfsimInputError
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


@dataclass(frozen=True, eq=False)
class MaxBatchThroughput:
    """The fastest of the batches tried (`result` at `batch`) and the memory report that bounds them."""

    result: RequestResult
    batch: int
    memory: MemoryReport


def max_batch_throughput(model: ModelSpec, hw: HardwareProfile, prompt_len: int, output_len: int, *,
                         context_len: int | None = None, execution: Execution | None = None,
                         batch: int | None = None, batch_ceiling: int | None = None,
                         powers_of_two: bool = False,
                         runtime: RuntimeLike = DEFAULT_RUNTIME) -> MaxBatchThroughput:
    """Generation throughput at the largest batch that fits `context_len` (default prompt + output +
    prefix tokens) with `PREFILL_CHUNK_TOKENS`-token chunked prefill: the one max-batch definition,
    shared with the batch evaluator. `batch_ceiling` caps that batch; `powers_of_two` also tries
    every power of two below it and keeps the fastest; `batch` prices that batch alone. Under a
    `runtime`, its chunk replaces PREFILL_CHUNK_TOKENS (whole prompts when it does not chunk) and
    its max running sequences cap the batch (no engine runs more at once)."""
    runtime = load_runtime_like(runtime)
    hw, execution = resolve_deployment(runtime, hw, execution)
    context = prompt_len + output_len + model.prefix_tokens if context_len is None else context_len
    chunk = PREFILL_CHUNK_TOKENS if runtime is None else prefill_chunk_tokens(runtime, hw)
    mem = _memory(model, hw, 1, context, tensor_parallel=execution.tensor_parallel,
                  prefill_chunk_tokens=chunk)
    if mem.max_batch < 1:
        raise PerfsimInputError(mem.explain(model.id, hw.id, 1, context))
    if runtime is not None:
        cap = max_running_seqs(runtime, hw)
        batch_ceiling = cap if batch_ceiling is None else min(batch_ceiling, cap)
    if batch is not None:
        if batch > mem.max_batch:
            raise PerfsimInputError(f"batch {batch} does not fit {model.id} on {hw.id} at context "
                                    f"{context} (max batch {mem.max_batch}).")
        candidates = [batch]
    else:
        top = mem.max_batch if batch_ceiling is None else min(mem.max_batch, batch_ceiling)
        candidates = [top] if not powers_of_two else sorted(
            {top, *(2**i for i in range(top.bit_length()) if 2**i <= top)})
    runs = [(generate(model, hw, b, prompt_len, output_len, execution=execution, check_memory=False,
                      runtime=runtime), b)
            for b in candidates]
    best, best_batch = max(runs, key=lambda rb: rb[0].tokens_per_s)
    return MaxBatchThroughput(result=best, batch=best_batch, memory=mem)
