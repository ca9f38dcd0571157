"""The vectorised batch evaluator: many workload points of a (model, hardware) in a few numpy calls.

Sweeps, frontiers, search, the dashboard's heat maps and the predictor benchmark price thousands
of points; each (model, hardware, decoding) here is one call into the op code with numpy arrays
as shapes. Memory comes from the one footprint composition (`perfsim.cost.memory.Footprint`),
latency from the one step composer (`perfsim.cost.step.step_latency`).

* `evaluate_grid`: one step (decode or prefill) over models x hardware x batch x context.
* `evaluate_workloads`: whole requests over (batch, prompt_len, output_len), the quantities of
  `perfsim.cost.request.generate` and `memory`, with these differences by design:
  TPOT is the mean decode-iteration time over the generated contexts by 3-point Gauss-Legendre
  quadrature (exact for the linear growth of attention cost with context; generate() averages up
  to 2048 evaluated steps; tests compare the two). A configuration that does not fit, or whose
  context exceeds the model's limit, is a row with fits=False and NaN latencies, never an
  exception (sweeps keep every row). `max_batch` is the largest batch that fits with
  `PREFILL_CHUNK_TOKENS`-token chunked prefill at the full context (as the headline report and
  compare use); `max_batch_tokens_per_s` is the generation throughput at that batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from perfsim.checks import counts
from perfsim.cost.chunked import chunk_steps
from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import PREFILL_CHUNK_TOKENS, Footprint
from perfsim.cost.runtime import (
    DEFAULT_RUNTIME,
    RuntimeLike,
    load_runtime_like,
    max_running_seqs,
    prefill_chunk_tokens,
    resolve_deployment,
)
from perfsim.cost.step import step_latency
from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_BATCH, MAX_SIZE
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

if TYPE_CHECKING:
    import pandas as pd

_GL_NODES = np.array([-np.sqrt(3 / 5), 0.0, np.sqrt(3 / 5)])
_GL_WEIGHTS = np.array([5 / 9, 8 / 9, 5 / 9])


def evaluate_grid(
    models: Iterable,
    hardware: Iterable,
    batch: Sequence[int] | np.ndarray,
    context_len: Sequence[int] | np.ndarray,
    *,
    phase: Literal["decode", "prefill"] = "decode",
    execution: Execution | None = None,
    runtime: RuntimeLike = DEFAULT_RUNTIME,
) -> pd.DataFrame:
    """Step latency, throughput and fit for the full grid models x hardware x batch x context.

    Decode: one token for each of `batch` sequences with `context_len` cached.
    Prefill: `batch` prompts of `context_len` tokens (latency = TTFT) in one forward.
    `runtime` supplies kernels, launch mode and host costs per device (perfsim.cost.runtime).
    """
    import pandas as pd  # deferred: `import perfsim` stays light

    counts("batch", batch, MAX_BATCH)
    counts("context_len", context_len, MAX_SIZE)
    if phase not in ("decode", "prefill"):
        raise PerfsimInputError(f"phase must be 'decode' or 'prefill' (got {phase!r}).")
    profile = load_runtime_like(runtime)
    # shapes stay (batch, 1) and (1, context) through the ops, so a kernel that depends on the batch
    # alone (projections, MLP, lm_head in decode) is priced once per batch, not per grid point
    b_col, c_row = np.asarray(batch, float)[:, None], np.asarray(context_len, float)[None, :]
    grid = (b_col.shape[0], c_row.shape[1])
    b, c = np.broadcast_to(b_col, grid).ravel(), np.broadcast_to(c_row, grid).ravel()
    frames, tp = [], (execution or Execution()).tensor_parallel
    for model in map(load_model, models):
        if phase == "decode":
            step, tokens = StepBatch(decode_seqs=b_col, decode_context=c_row), b
        else:
            step, tokens = StepBatch(prefill_seqs=b_col, prefill_tokens=c_row), b * c
        for hw in map(load_hardware, hardware):
            priced_on, resolved = resolve_deployment(profile, hw, execution)
            latency = step_latency(model, priced_on, step, resolved)
            latency = np.broadcast_to(latency, grid).ravel()
            foot = Footprint.of(model, hw, tp)
            need = foot.total_bytes(b, c, tokens)  # the step's activation peak and logits included
            frames.append(pd.DataFrame({
                "model": model.id,
                "hardware": hw.id,
                "phase": phase,
                "batch": b.astype(int),
                "context_len": c.astype(int),
                "latency_s": latency,
                "tokens_per_s": tokens / latency,
                "memory_bytes": need,
                "fits": need <= foot.usable_bytes,
            }))
    return pd.concat(frames, ignore_index=True)


def _latencies(model, hw, strategy: DecodingStrategy, batch, prompt, output, execution, chunk=None):
    """(ttft_s, tpot_s, e2e_s, tokens_per_s) arrays, ignoring memory. The predictor's cost is mostly
    per call, so the quadrature nodes go through the predictor as one concatenated array. With a
    `chunk`, the prefill runs in forwards of that many tokens (perfsim.cost.chunked)."""
    prefix = model.prefix_tokens
    if chunk is None:
        whole = StepBatch(prefill_seqs=batch, prefill_tokens=prompt + prefix)
        ttft = np.asarray(step_latency(model, hw, whole, execution), float)
        ttft = np.broadcast_to(ttft, batch.shape).copy()
    else:
        ttft = _chunked_ttft(model, hw, batch, prompt + prefix, chunk, execution)
    if strategy.name != "autoregressive":
        pairs = {(int(b), int(p)) for b, p in zip(batch, prompt, strict=True)}
        extra = {k: strategy.prefill_extra_latency(model, hw, k[0], k[1], execution) for k in pairs}
        ttft += np.array([extra[(int(b), int(p))] for b, p in zip(batch, prompt, strict=True)])
    steps = output - 1
    half = np.maximum(steps - 1, 0) / 2.0
    centre = prompt + prefix + half
    contexts = np.concatenate([centre + node * half for node in _GL_NODES])
    times = np.asarray(
        strategy.iteration_latency(model, hw, np.tile(batch, len(_GL_NODES)), contexts, execution), float
    ).reshape(len(_GL_NODES), -1)
    mean_iter = _GL_WEIGHTS @ times / 2
    tpot = np.where(steps > 0, mean_iter / strategy.expected_tokens(), 0.0)
    e2e = ttft + steps * tpot
    return ttft, tpot, e2e, batch * output / e2e


def _chunked_ttft(model, hw, batch, tokens, chunk: int, execution) -> np.ndarray:
    """Chunked prefill latency per (batch, tokens) pair, each distinct pair priced once."""
    pairs = {(int(b), int(t)) for b, t in zip(batch, tokens, strict=True) if b >= 1}
    cost = {(b, t): sum(float(step_latency(model, hw, step, execution)) * n
                        for step, n in chunk_steps(b, t, chunk)) for b, t in pairs}
    return np.array([cost.get((int(b), int(t)), 0.0) for b, t in zip(batch, tokens, strict=True)])


def evaluate_workloads(
    model: ModelSpec,
    hw: HardwareProfile,
    batch,
    prompt_len,
    output_len,
    *,
    decoding=None,
    execution: Execution | None = None,
    runtime: RuntimeLike = DEFAULT_RUNTIME,
) -> dict[str, np.ndarray]:
    """Columns (arrays of the broadcast workload shape): ttft_s, tpot_s, e2e_s, tokens_per_s,
    memory_bytes, fits, max_batch, max_batch_tokens_per_s. Under a `runtime`, its kernels, launch
    mode and host costs, and its chunked prefill for memory, TTFT and the max batch (as generate)."""
    for name, values, limit in (("batch", batch, MAX_BATCH), ("prompt_len", prompt_len, MAX_SIZE),
                                ("output_len", output_len, MAX_SIZE)):
        counts(name, np.atleast_1d(np.asarray(values, dtype=object)), limit)
    profile = load_runtime_like(runtime)
    hw, execution = resolve_deployment(profile, hw, execution)
    chunk = None if profile is None else prefill_chunk_tokens(profile, hw)
    strategy = make_decoding(decoding)
    b, p, o = (np.asarray(x, float).ravel() for x in np.broadcast_arrays(batch, prompt_len, output_len))
    foot = Footprint.of(model, hw, execution.tensor_parallel, *strategy.resident_draft(model))
    context = p + o + model.prefix_tokens
    in_range = context <= model.max_context_len
    safe_ctx = np.minimum(context, model.max_context_len)
    step_tokens = b * safe_ctx if chunk is None else np.minimum(b * safe_ctx, chunk)  # as generate() checks
    memory_bytes = foot.total_bytes(b, safe_ctx, step_tokens)
    fits = in_range & (memory_bytes <= foot.usable_bytes) & (b >= 1) & (p >= 1) & (o >= 1)
    max_batch = np.where(in_range, foot.max_batch(safe_ctx, chunk or PREFILL_CHUNK_TOKENS), 0)
    if profile is not None:  # no engine runs more sequences at once than its scheduler allows
        max_batch = np.minimum(max_batch, max_running_seqs(profile, hw))
    ok = max_batch > 0
    n = len(b)  # the request at `batch` and, stacked after it, the same request at max batch
    ttft, tpot, e2e, tps = _latencies(
        model,
        hw,
        strategy,
        np.concatenate([b, max_batch[ok].astype(float)]),
        np.concatenate([p, p[ok]]),
        np.concatenate([o, o[ok]]),
        execution,
        chunk,
    )
    peak = np.full(n, np.nan)
    peak[ok] = tps[n:]
    ttft, tpot, e2e, tps = ttft[:n], tpot[:n], e2e[:n], tps[:n]
    nan = np.where(fits, 1.0, np.nan)
    return {
        "ttft_s": ttft * nan,
        "tpot_s": tpot * nan,
        "e2e_s": e2e * nan,
        "tokens_per_s": tps * nan,
        "memory_bytes": memory_bytes,
        "fits": fits,
        "max_batch": max_batch,
        "max_batch_tokens_per_s": peak,
    }


__all__ = ["evaluate_grid", "evaluate_workloads"]
