"""Public predictions: prefill (TTFT), one decode step, a whole batched request, memory, and the
generation throughput at the largest batch that fits (the report's and compare's headline rate).

Model and hardware arguments accept ids, paths or loaded objects. Predictions for a
configuration that does not fit in memory raise PerfsimInputError with the numbers, unless
`check_memory=False` (useful to ask "how fast if it fitted").

`runtime=` (id, path or RuntimeProfile) runs the prediction as that runtime does on the device:
its attention kernels, launch mode and host costs, and its chunked prefill (memory is sized for one
chunk of its token budget, and the prefill runs in such chunks). None keeps perfsim's runtime-free
behaviour. An explicit `execution=` wins for the fields it sets (perfsim.cost.runtime).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from perfsim.cost.chunked import chunked_prefill
from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import PREFILL_CHUNK_TOKENS, MemoryReport, require_fit
from perfsim.cost.memory import memory as _memory
from perfsim.cost.runtime import (
    RuntimeLike,
    chunk_assumption,
    load_runtime_like,
    prefill_chunk_tokens,
    resolve_execution,
)
from perfsim.cost.step import StepResult, evaluate_step
from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

ModelLike = str | os.PathLike | ModelSpec
HardwareLike = str | os.PathLike | HardwareProfile

#: Decode steps evaluated exactly up to this many output tokens; longer outputs are sampled
#: evenly (step time is smooth in context, so the mean is unchanged to well under 0.1 %).
MAX_DECODE_POINTS = 2048


@dataclass(frozen=True, eq=False)
class RequestResult:
    """A batch of `batch` identical requests generated together (static batching)."""

    ttft_s: float
    tpot_s: float
    e2e_s: float
    tokens_per_s: float
    batch: int
    prompt_len: int
    output_len: int
    prefill: StepResult
    decode: StepResult  # the target's forward at the mean decode context, for its breakdown
    memory: MemoryReport
    decoding: str = "autoregressive"
    tokens_per_iteration: float = 1.0

    @property
    def requests_per_s(self) -> float:
        """Request-level rate: a model that writes longer outputs is not counted as faster."""
        return self.batch / self.e2e_s

    def to_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "e2e_s": self.e2e_s,
            "tokens_per_s": self.tokens_per_s,
            "requests_per_s": self.requests_per_s,
            "decoding": self.decoding,
            "tokens_per_iteration": self.tokens_per_iteration,
            "batch": self.batch,
            "prompt_len": self.prompt_len,
            "output_len": self.output_len,
            "weights_bytes": self.memory.weights_bytes,
            "kv_cache_bytes": self.memory.kv_cache_bytes,
            "state_bytes": self.memory.state_bytes,
            "total_memory_bytes": self.memory.total_bytes,
            "fits": self.memory.fits,
            "max_batch": self.memory.max_batch,
        }


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int | np.integer) or value < 1:
            raise PerfsimInputError(f"{name} must be a positive integer (got {value!r}).")


def _context_check(model: ModelSpec, context: int) -> None:
    if context > model.max_context_len:
        raise PerfsimInputError(
            f"context of {context} tokens exceeds max_context_len {model.max_context_len} of "
            f"{model.id}; allowed: 1..{model.max_context_len}."
        )


def memory(model: ModelLike, hw: HardwareLike, batch: int, context_len: int,
           decoding: str | DecodingStrategy | None = None, *, runtime: RuntimeLike = None,
           **kwargs) -> MemoryReport:
    """Weights, KV cache, state, activations (and a speculative drafter's share) and whether they
    fit; see `perfsim.cost.memory.memory`. Under a `runtime` the prefill is the runtime's (chunks of
    its token budget unless `prefill_chunk_tokens` is given) and the report's sentence names it."""
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, context_len=context_len)
    _context_check(model, context_len)
    draft, shared = make_decoding(decoding).resident_draft(model)
    profile = load_runtime_like(runtime)
    if profile is None:
        return _memory(model, hw, batch, context_len, draft=draft, draft_shared_params=shared, **kwargs)
    kwargs.setdefault("prefill_chunk_tokens", prefill_chunk_tokens(profile, hw))
    report = _memory(model, hw, batch, context_len, draft=draft, draft_shared_params=shared, **kwargs)
    return replace(report, assumed=chunk_assumption(profile, hw, kwargs["prefill_chunk_tokens"]))


def _runtime_chunk(runtime: RuntimeLike, hw: HardwareProfile) -> tuple[int | None, str | None]:
    """(prefill chunk, the sentence clause naming it) under a runtime; (None, None) without one."""
    profile = load_runtime_like(runtime)
    if profile is None:
        return None, None
    chunk = prefill_chunk_tokens(profile, hw)
    return chunk, chunk_assumption(profile, hw, chunk)


def prefill(model: ModelLike, hw: HardwareLike, batch: int, prompt_len: int, *,
            execution: Execution | None = None, check_memory: bool = True,
            runtime: RuntimeLike = None) -> StepResult:
    """One forward pass over `batch` prompts of `prompt_len` tokens: its latency is the TTFT.
    Under a runtime that chunks prefill, the forwards of its token budget, summed."""
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, prompt_len=prompt_len)
    _context_check(model, prompt_len + model.prefix_tokens)
    chunk, assumed = _runtime_chunk(runtime, hw)
    execution = resolve_execution(runtime, hw, execution)
    tokens = prompt_len + model.prefix_tokens
    if check_memory:
        report = _memory(model, hw, batch, tokens, tensor_parallel=execution.tensor_parallel,
                         prefill_chunk_tokens=chunk)
        require_fit(replace(report, assumed=assumed), model.id, hw.id, batch, prompt_len)
    if chunk is not None:
        return chunked_prefill(model, hw, batch, tokens, chunk, execution)
    step = StepBatch(prefill_seqs=batch, prefill_tokens=tokens)
    return evaluate_step(model, hw, step, execution)


def decode_step(model: ModelLike, hw: HardwareLike, batch: int, context_len: int, *,
                execution: Execution | None = None, check_memory: bool = True,
                runtime: RuntimeLike = None) -> StepResult:
    """One decode step generating a token for each of `batch` sequences with `context_len` cached."""
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, context_len=context_len)
    context = context_len + model.prefix_tokens
    _context_check(model, context + 1)
    execution = resolve_execution(runtime, hw, execution)
    if check_memory:
        report = _memory(model, hw, batch, context + 1, tensor_parallel=execution.tensor_parallel,
                         prefill_chunk_tokens=batch)
        require_fit(report, model.id, hw.id, batch, context_len)
    return evaluate_step(model, hw, StepBatch(decode_seqs=batch, decode_context=context), execution)


def generate(model: ModelLike, hw: HardwareLike, batch: int, prompt_len: int, output_len: int,
             decoding: str | DecodingStrategy | None = None, *, execution: Execution | None = None,
             check_memory: bool = True, runtime: RuntimeLike = None) -> RequestResult:
    """Prefill, then decoding iterations until `output_len` tokens exist, for a batch of requests.

    TTFT is the prefill latency (the first token is sampled from it). Each later iteration yields
    the strategy's expected tokens per sequence; TPOT = iteration time / tokens per iteration;
    end-to-end = TTFT + (output_len - 1) x TPOT; tokens_per_s counts generated tokens of the batch.
    """
    strategy = make_decoding(decoding)
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, prompt_len=prompt_len, output_len=output_len)
    total = prompt_len + output_len + model.prefix_tokens
    _context_check(model, total)
    chunk, assumed = _runtime_chunk(runtime, hw)
    execution = resolve_execution(runtime, hw, execution)
    draft, shared = strategy.resident_draft(model)
    report = _memory(model, hw, batch, total, tensor_parallel=execution.tensor_parallel, draft=draft,
                     draft_shared_params=shared, prefill_chunk_tokens=chunk)
    report = report if assumed is None else replace(report, assumed=assumed)
    if check_memory:
        require_fit(report, model.id, hw.id, batch, prompt_len + output_len)
    first = (prefill(model, hw, batch, prompt_len, execution=execution, check_memory=False) if chunk is None
             else chunked_prefill(model, hw, batch, prompt_len + model.prefix_tokens, chunk, execution))
    ttft = first.latency_s + strategy.prefill_extra_latency(model, hw, batch, prompt_len, execution)
    start = prompt_len + model.prefix_tokens
    steps = output_len - 1
    per_iteration = strategy.expected_tokens()
    if steps:
        contexts = np.linspace(start, start + steps - 1, min(steps, MAX_DECODE_POINTS))
        times = strategy.iteration_latency(model, hw, batch, contexts, execution)
        tpot = float(np.mean(times)) / per_iteration
        mid = int(round(start + (steps - 1) / 2))
    else:
        tpot, mid = 0.0, start
    mid_step = evaluate_step(model, hw, strategy.target_step(batch, mid), execution)
    e2e = ttft + steps * tpot
    return RequestResult(
        ttft_s=ttft,
        tpot_s=tpot,
        e2e_s=e2e,
        tokens_per_s=batch * output_len / e2e,
        batch=batch,
        prompt_len=prompt_len,
        output_len=output_len,
        prefill=first,
        decode=mid_step,
        memory=report,
        decoding=strategy.describe(),
        tokens_per_iteration=per_iteration,
    )


@dataclass(frozen=True, eq=False)
class MaxBatchThroughput:
    """The fastest of the batches tried (`result` at `batch`) and the memory report that bounds them."""

    result: RequestResult
    batch: int
    memory: MemoryReport


def max_batch_throughput(model: ModelSpec, hw: HardwareProfile, prompt_len: int, output_len: int, *,
                         context_len: int | None = None, execution: Execution | None = None,
                         batch: int | None = None, batch_ceiling: int | None = None,
                         powers_of_two: bool = False, runtime: RuntimeLike = None) -> MaxBatchThroughput:
    """Generation throughput at the largest batch that fits `context_len` (default prompt + output +
    prefix tokens) with `PREFILL_CHUNK_TOKENS`-token chunked prefill: the one max-batch definition,
    shared with the batch evaluator. `batch_ceiling` caps that batch; `powers_of_two` also tries
    every power of two below it and keeps the fastest; `batch` prices that batch alone. Under a
    `runtime`, its chunk replaces PREFILL_CHUNK_TOKENS (whole prompts when it does not chunk)."""
    runtime = load_runtime_like(runtime)
    execution = resolve_execution(runtime, hw, execution)
    context = prompt_len + output_len + model.prefix_tokens if context_len is None else context_len
    chunk = PREFILL_CHUNK_TOKENS if runtime is None else prefill_chunk_tokens(runtime, hw)
    mem = _memory(model, hw, 1, context, tensor_parallel=execution.tensor_parallel,
                  prefill_chunk_tokens=chunk)
    if mem.max_batch < 1:
        raise PerfsimInputError(mem.explain(model.id, hw.id, 1, context))
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
