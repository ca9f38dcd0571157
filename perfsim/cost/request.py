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
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from perfsim.checks import count
from perfsim.cost.chunked import chunked_prefill
from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import MemoryReport, prefill_tokens, require_fit
from perfsim.cost.plan import step_plan
from perfsim.cost.resolved import deployment
from perfsim.cost.runtime import (
    DEFAULT_RUNTIME,
    RuntimeLike,
    chunk_assumption,
    load_runtime_like,
    prefill_chunk_tokens,
)
from perfsim.cost.step import StepResult, evaluate_step
from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_BATCH, MAX_SIZE
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

ModelLike = str | os.PathLike | ModelSpec
HardwareLike = str | os.PathLike | HardwareProfile

#: Decode steps evaluated exactly up to this many output tokens; longer outputs are sampled
#: evenly (step time is smooth in context, so the mean is unchanged to well under 0.1 %).
MAX_DECODE_POINTS = 2048


@dataclass(frozen=True, eq=False, init=False)
class RequestResult:
    """A batch of `batch` identical requests generated together (static batching). `decode`, the
    target's forward at the mean decode context (for its breakdown), and `memory` (when the call
    did not check it) are computed on first access when given as zero-argument callables: the
    request's timings do not need them."""

    ttft_s: float
    tpot_s: float
    e2e_s: float
    tokens_per_s: float
    batch: int
    prompt_len: int
    output_len: int
    prefill: StepResult
    decoding: str = "autoregressive"
    tokens_per_iteration: float = 1.0
    _decode: object = field(default=None, repr=False)
    _memory: object = field(default=None, repr=False)

    def __init__(self, ttft_s: float, tpot_s: float, e2e_s: float, tokens_per_s: float, batch: int,
                 prompt_len: int, output_len: int, prefill: StepResult,
                 decode: StepResult | Callable[[], StepResult],
                 memory: MemoryReport | Callable[[], MemoryReport],
                 decoding: str = "autoregressive", tokens_per_iteration: float = 1.0):
        self.__dict__.update(ttft_s=ttft_s, tpot_s=tpot_s, e2e_s=e2e_s, tokens_per_s=tokens_per_s,
                             batch=batch, prompt_len=prompt_len, output_len=output_len, prefill=prefill,
                             decoding=decoding, tokens_per_iteration=tokens_per_iteration, _decode=decode,
                             _memory=memory)

    def __getstate__(self) -> dict:
        self.decode  # noqa: B018 (pickles and copies carry the step and report, not their recipes)
        self.memory  # noqa: B018
        return dict(self.__dict__)

    def _forced(self, field: str, kind: type):
        """`field`'s value, built once from its recipe (a zero-argument callable) when first read."""
        value = getattr(self, field)
        if not isinstance(value, kind):
            value = value()
            object.__setattr__(self, field, value)
        return value

    @property
    def memory(self) -> MemoryReport:
        return self._forced("_memory", MemoryReport)

    @property
    def decode(self) -> StepResult:
        return self._forced("_decode", StepResult)

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


def _memory(model: ModelSpec, hw: HardwareProfile, batch: int, context_len: int, **kwargs) -> MemoryReport:
    """perfsim.cost.memory.memory through the (model, hw) plan's memoised footprint and limits."""
    return step_plan(model, hw).memory(batch, context_len, **kwargs)


def _fits(model: ModelSpec, hw: HardwareProfile, batch: int, context_len: int, *, tensor_parallel: int,
          prefill_chunk_tokens: int | None, draft: ModelSpec | None = None,
          draft_shared_params: float = 0.0) -> bool:
    """`_memory(...).fits` from the plan's footprint alone, without building the report (whose
    limits cost more than the check); False outside the footprint's range, so the caller builds
    the report, which says why."""
    if batch < 1 or not 1 <= context_len <= model.max_context_len:
        return False
    foot = step_plan(model, hw).footprint(tensor_parallel, draft, draft_shared_params)
    step_tokens = prefill_tokens(batch, context_len, prefill_chunk_tokens)
    return float(foot.total_bytes(batch, context_len, step_tokens)) <= foot.usable_bytes


def _check_positive(**values: int) -> None:
    """Batch sizes up to MAX_BATCH, token counts up to MAX_SIZE (perfsim.io.limits)."""
    for name, value in values.items():
        count(name, value, MAX_BATCH if name == "batch" else MAX_SIZE)


def _context_check(model: ModelSpec, context: int) -> None:
    if context > model.max_context_len:
        raise PerfsimInputError(
            f"context of {context} tokens exceeds max_context_len {model.max_context_len} of "
            f"{model.id}; allowed: 1..{model.max_context_len}."
        )


def memory(model: ModelLike, hw: HardwareLike, batch: int, context_len: int,
           decoding: str | DecodingStrategy | None = None, *, runtime: RuntimeLike = DEFAULT_RUNTIME,
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


def prefill(model: ModelLike, hw: HardwareLike, batch: int, prompt_len: int, *,
            execution: Execution | None = None, check_memory: bool = True,
            runtime: RuntimeLike = DEFAULT_RUNTIME) -> StepResult:
    """One forward pass over `batch` prompts of `prompt_len` tokens: its latency is the TTFT.
    Under a runtime that chunks prefill, the forwards of its token budget, summed."""
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, prompt_len=prompt_len)
    _context_check(model, prompt_len + model.prefix_tokens)
    resolved = deployment(runtime, hw, execution)
    hw, execution, chunk, assumed = resolved.hw, resolved.execution, resolved.chunk, resolved.assumed
    tokens = prompt_len + model.prefix_tokens
    tp = execution.tensor_parallel
    if check_memory and not _fits(model, hw, batch, tokens, tensor_parallel=tp, prefill_chunk_tokens=chunk):
        report = _memory(model, hw, batch, tokens, tensor_parallel=tp, prefill_chunk_tokens=chunk)
        require_fit(replace(report, assumed=assumed), model.id, hw.id, batch, prompt_len)
    if chunk is not None:
        return chunked_prefill(model, hw, batch, tokens, chunk, execution)
    step = StepBatch(prefill_seqs=batch, prefill_tokens=tokens)
    return evaluate_step(model, hw, step, execution)


def decode_step(model: ModelLike, hw: HardwareLike, batch: int, context_len: int, *,
                execution: Execution | None = None, check_memory: bool = True,
                runtime: RuntimeLike = DEFAULT_RUNTIME) -> StepResult:
    """One decode step generating a token for each of `batch` sequences with `context_len` cached."""
    model, hw = load_model(model), load_hardware(hw)
    _check_positive(batch=batch, context_len=context_len)
    context = context_len + model.prefix_tokens
    _context_check(model, context + 1)
    resolved = deployment(runtime, hw, execution)
    hw, execution = resolved.hw, resolved.execution
    tp, needed = execution.tensor_parallel, context + 1
    if check_memory and not _fits(model, hw, batch, needed, tensor_parallel=tp, prefill_chunk_tokens=batch):
        report = _memory(model, hw, batch, needed, tensor_parallel=tp, prefill_chunk_tokens=batch)
        require_fit(report, model.id, hw.id, batch, context_len)
    return evaluate_step(model, hw, StepBatch(decode_seqs=batch, decode_context=context), execution)


def generate(model: ModelLike, hw: HardwareLike, batch: int, prompt_len: int, output_len: int,
             decoding: str | DecodingStrategy | None = None, *, execution: Execution | None = None,
             check_memory: bool = True, runtime: RuntimeLike = DEFAULT_RUNTIME) -> RequestResult:
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
    resolved = deployment(runtime, hw, execution)
    hw, execution, chunk, assumed = resolved.hw, resolved.execution, resolved.chunk, resolved.assumed
    draft, shared = strategy.resident_draft(model)

    def memory_report() -> MemoryReport:
        report = _memory(model, hw, batch, total, tensor_parallel=execution.tensor_parallel, draft=draft,
                         draft_shared_params=shared, prefill_chunk_tokens=chunk)
        return report if assumed is None else replace(report, assumed=assumed)

    report: MemoryReport | Callable[[], MemoryReport] = memory_report  # built when first asked for
    if check_memory and not _fits(model, hw, batch, total, tensor_parallel=execution.tensor_parallel,
                                  prefill_chunk_tokens=chunk, draft=draft, draft_shared_params=shared):
        report = memory_report()
        require_fit(report, model.id, hw.id, batch, prompt_len + output_len)
    tokens = prompt_len + model.prefix_tokens  # prefill() without its checks, made above
    first = (evaluate_step(model, hw, StepBatch(prefill_seqs=batch, prefill_tokens=tokens), execution)
             if chunk is None else chunked_prefill(model, hw, batch, tokens, chunk, execution))
    ttft = first.latency_s + strategy.prefill_extra_latency(model, hw, batch, prompt_len, execution)
    start = prompt_len + model.prefix_tokens
    steps = output_len - 1
    per_iteration = strategy.expected_tokens()
    if steps:
        contexts = (np.arange(start, start + steps, dtype=float) if steps <= MAX_DECODE_POINTS  # = linspace's
                    else np.linspace(start, start + steps - 1, MAX_DECODE_POINTS))
        times = strategy.iteration_latency(model, hw, batch, contexts, execution)
        tpot = float(np.mean(times)) / per_iteration
        mid = int(round(start + (steps - 1) / 2))
    else:
        tpot, mid = 0.0, start
    mid_step = strategy.target_step(batch, mid)
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
        decode=lambda: evaluate_step(model, hw, mid_step, execution),
        memory=report,
        decoding=strategy.describe(),
        tokens_per_iteration=per_iteration,
    )
