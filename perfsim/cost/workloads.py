"""Vectorised request-level evaluation of one (model, hardware, decoding) over many workloads.

The same quantities as `perfsim.cost.request.generate` and `perfsim.cost.memory.memory`, computed with numpy
arrays of (batch, prompt_len, output_len) in a handful of predictor calls, for frontiers, sweeps
and search. Differences from the scalar path, by design:

* TPOT is the mean decode-iteration time over the generated contexts by 3-point Gauss-Legendre
  quadrature (exact for the linear growth of attention cost with context; generate() averages up
  to 2048 evaluated steps; tests compare the two).
* A configuration that does not fit, or whose context exceeds the model's limit, is a row with
  fits=False and NaN latencies, never an exception (sweeps keep every row).
* `max_batch` is the largest batch that fits with 8192-token chunked prefill at the full context
  (as the headline report uses), solved in closed form; `max_batch_tokens_per_s` is the generation
  throughput at that batch.
"""

from __future__ import annotations

import numpy as np

from perfsim.cost.graph import Execution, StepBatch
from perfsim.cost.memory import (
    activation_bytes_per_token,
    kv_bytes_per_seq,
    logits_bytes_per_row,
    state_bytes_per_seq,
    weight_bytes,
)
from perfsim.cost.step import step_latency
from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

#: Chunked-prefill budget assumed for max-batch throughput (vLLM's default max_num_batched_tokens
#: order of magnitude; the headline report uses the same).
MAX_BATCH_PREFILL_CHUNK = 8192
MAX_BATCH_LIMIT = 1 << 24
_GL_NODES = np.array([-np.sqrt(3 / 5), 0.0, np.sqrt(3 / 5)])
_GL_WEIGHTS = np.array([5 / 9, 8 / 9, 5 / 9])


class _Footprint:
    """Per-model memory terms (a speculative drafter's included), reused across workload points."""

    def __init__(self, model: ModelSpec, hw: HardwareProfile, tp: int, strategy: DecodingStrategy):
        self.model, self.tp = model, tp
        self.draft, shared = strategy.resident_draft(model)
        self.weights = weight_bytes(model, tp, self.draft, shared)
        self.state = state_bytes_per_seq(model, tp, self.draft)
        self.act_tok = activation_bytes_per_token(model, tp)
        self.logits_row = logits_bytes_per_row(model, tp)
        self.fixed = self.weights + hw.memory.reserved_runtime_bytes
        self.usable = hw.memory.usable_bytes

    def kv_per_seq(self, context):
        return kv_bytes_per_seq(self.model, np.asarray(context, float), self.tp, self.draft)

    def total_bytes(self, batch, context):
        """memory() with whole-batch prefill (what generate() checks)."""
        per_seq = self.kv_per_seq(context) + self.state + self.logits_row
        return self.fixed + batch * (per_seq + context * self.act_tok)

    def max_batch(self, context):
        """Largest batch with chunked prefill at `context` (0 if one sequence does not fit)."""
        context = np.asarray(context, float)
        chunk = MAX_BATCH_PREFILL_CHUNK
        per_seq = self.kv_per_seq(context) + self.state + self.logits_row
        room = self.usable - self.fixed
        first_chunked = np.ceil(chunk / context)  # smallest batch whose prefill fills a chunk
        need_at_first = self.fixed + first_chunked * per_seq + chunk * self.act_tok
        chunked = np.floor((room - chunk * self.act_tok) / per_seq)
        whole = np.minimum(np.floor(room / (per_seq + context * self.act_tok)), first_chunked - 1)
        best = np.where(need_at_first <= self.usable, np.maximum(chunked, first_chunked), whole)
        one_fits = self.fixed + per_seq + np.minimum(chunk, context) * self.act_tok <= self.usable
        return np.where(one_fits, np.clip(best, 1, MAX_BATCH_LIMIT), 0).astype(np.int64)


def _latencies(model, hw, strategy: DecodingStrategy, batch, prompt, output, execution):
    """(ttft_s, tpot_s, e2e_s, tokens_per_s) arrays, ignoring memory. The predictor's cost is mostly
    per call, so the quadrature nodes go through the predictor as one concatenated array."""
    prefix = model.prefix_tokens
    ttft = step_latency(model, hw, StepBatch(prefill_seqs=batch, prefill_tokens=prompt + prefix), execution)
    ttft = np.broadcast_to(np.asarray(ttft, float), batch.shape).copy()
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


def evaluate_workloads(
    model: ModelSpec,
    hw: HardwareProfile,
    batch,
    prompt_len,
    output_len,
    *,
    decoding=None,
    execution: Execution | None = None,
) -> dict[str, np.ndarray]:
    """Columns (arrays of the broadcast workload shape): ttft_s, tpot_s, e2e_s, tokens_per_s,
    memory_bytes, fits, max_batch, max_batch_tokens_per_s."""
    execution = execution or Execution()
    strategy = make_decoding(decoding)
    b, p, o = (np.asarray(x, float).ravel() for x in np.broadcast_arrays(batch, prompt_len, output_len))
    foot = _Footprint(model, hw, execution.tensor_parallel, strategy)
    context = p + o + model.prefix_tokens
    in_range = context <= model.max_context_len
    safe_ctx = np.minimum(context, model.max_context_len)
    memory_bytes = foot.total_bytes(b, safe_ctx)
    fits = in_range & (memory_bytes <= foot.usable) & (b >= 1) & (p >= 1) & (o >= 1)
    max_batch = np.where(in_range, foot.max_batch(safe_ctx), 0)
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
