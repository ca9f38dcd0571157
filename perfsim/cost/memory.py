"""Device memory: weights, KV cache, recurrent state, activations, runtime reserve; fit and limits.

KV is exact: 2 (K and V) x KV heads x head_dim x bytes per cached token per attention layer,
capped at the window for sliding-window layers. Mamba2 / linear-attention state is constant per
sequence. Activations are the transient peak of the largest step: by default the whole batch's
prompts prefilled at once (static batching); pass `prefill_chunk_tokens` for chunked prefill.
`Footprint` composes these terms once for every caller (report, batch evaluator, grid, KV pool).
Expert parallelism (Execution.expert_parallel, a divisor of TP) leaves every term as it is: each
GPU holds num_experts / EP whole experts sliced TP / EP ways, the same bytes as all experts sliced
TP ways, and every GPU still holds every token's activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.checks import count
from perfsim.cost.params import model_params
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_BATCHED_TOKENS, MAX_TENSOR_PARALLEL
from perfsim.layers import layer_kind
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.units import DTYPE_BYTES, format_bytes


@dataclass(frozen=True, slots=True)
class MemoryReport:
    weights_bytes: float
    kv_cache_bytes: float
    state_bytes: float
    activation_bytes: float
    reserved_bytes: float
    total_bytes: float
    usable_bytes: float
    fits: bool
    #: Largest batch that fits at this context (0 if even one sequence does not).
    max_batch: int
    #: Longest context that fits at this batch, capped by the model's max_context_len.
    max_context_len: int
    kv_bytes_per_token: float
    state_bytes_per_seq: float
    #: Part of weights/KV/state that belongs to a speculative drafter (included above).
    draft_bytes: float = 0.0
    #: The prefill the numbers assume, as a clause ("prefill in chunks of 2048 tokens (...)"), when a
    #: runtime chose it; named in `explain`.
    assumed: str | None = None

    @property
    def shortfall_bytes(self) -> float:
        return max(self.total_bytes - self.usable_bytes, 0.0)

    def explain(self, model_id: str, hw_id: str, batch: int, context_len: int) -> str:
        """One sentence: fits or not, with the numbers and the limits."""
        head = (
            f"{model_id} at batch {batch} and context {context_len} needs "
            f"{format_bytes(self.total_bytes)} (weights {format_bytes(self.weights_bytes)}, "
            f"KV cache {format_bytes(self.kv_cache_bytes)}, state {format_bytes(self.state_bytes)}, "
            f"activations {format_bytes(self.activation_bytes)}, "
            f"runtime {format_bytes(self.reserved_bytes)}"
            + (f"; drafter {format_bytes(self.draft_bytes)} of these" if self.draft_bytes else "")
            + ") "
            f"of the {format_bytes(self.usable_bytes)} usable on {hw_id}"
            + (f", assuming {self.assumed}" if self.assumed else "")
        )
        if self.fits:
            return f"{head}; it fits (max batch at this context {self.max_batch})."
        return (
            f"{head}: it does not fit, short by {format_bytes(self.shortfall_bytes)}; "
            f"max batch at this context is {self.max_batch}, max context at this batch is "
            f"{self.max_context_len}."
        )

    def to_dict(self) -> dict[str, float | bool | int | str]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "assumed" or self.assumed}
        out["shortfall_bytes"] = self.shortfall_bytes
        return out


def kv_bytes_per_token(model: ModelSpec, tp: int = 1,
                       draft: ModelSpec | None = None) -> tuple[float, dict[int, float]]:
    """KV bytes per cached token: of layers that keep every token, and of sliding-window layers
    by window (those stop growing at their window); a speculative `draft`'s layers included."""
    kvb = DTYPE_BYTES[model.dtypes.kv_cache]
    full, windowed = 0.0, dict[int, float]()
    for op in model.sublayers:
        per_token, window = layer_kind(op).kv_cache(op, kvb, tp)
        if not per_token:
            continue
        if window is None:
            full += per_token
        else:
            windowed[window] = windowed.get(window, 0.0) + per_token
    if draft is not None:
        draft_full, draft_windowed = kv_bytes_per_token(draft, tp)
        full += draft_full
        for window, per_token in draft_windowed.items():
            windowed[window] = windowed.get(window, 0.0) + per_token
    return full, windowed


def kv_bytes_per_seq(model: ModelSpec, context_len, tp: int = 1, draft: ModelSpec | None = None):
    """KV bytes of one sequence at `context_len` cached tokens (a number or a numpy array)."""
    full, windowed = kv_bytes_per_token(model, tp, draft)
    return _kv_bytes(full, windowed.items(), context_len)


def _kv_bytes(full: float, windows, context):
    return full * context + sum(b * np.minimum(context, w) for w, b in windows)


def state_bytes_per_seq(model: ModelSpec, tp: int = 1, draft: ModelSpec | None = None) -> float:
    """Recurrent (Mamba / linear-attention) state and conv windows of one sequence."""
    sb, ab = DTYPE_BYTES[model.dtypes.state], DTYPE_BYTES[model.dtypes.activations]
    total = 0.0
    for op in model.sublayers:
        total += layer_kind(op).state_bytes_per_seq(op, sb, ab, tp)
    return total + (state_bytes_per_seq(draft, tp) if draft is not None else 0.0)


def weight_bytes(model: ModelSpec, tp: int = 1, draft: ModelSpec | None = None,
                 draft_shared_params: float = 0.0) -> float:
    """Weights per GPU; a speculative `draft` adds its parameters less those it shares with the
    target (an EAGLE/MTP layer uses the target's embedding and output head)."""
    total = model_params(model).total * model.weight_bytes_per_param / tp
    if draft is not None:
        total += (model_params(draft).total - draft_shared_params) * draft.weight_bytes_per_param / tp
    return total


def logits_bytes_per_row(model: ModelSpec, tp: int = 1) -> float:
    """fp32 logits of one sampled row (the sampler's working copy)."""
    return model.vocab_size / tp * 4.0


def activation_bytes_per_token(model: ModelSpec, tp: int = 1) -> float:
    """Residual stream + normed input + the widest intermediate a sublayer materialises."""
    h = model.hidden_size
    widest: float = h
    for op in model.sublayers:
        widest = max(widest, layer_kind(op).activation_width(op, h) / tp)
    return (2 * h + widest) * DTYPE_BYTES[model.dtypes.activations]


#: Chunked-prefill budget (tokens per step) wherever a max batch is quoted: vLLM's default
#: max_num_batched_tokens on >= 70 GiB GPUs. The headline report, compare and the batch evaluator.
PREFILL_CHUNK_TOKENS = 8192
#: Ceiling of every max-batch search.
MAX_BATCH_LIMIT = 1 << 24


@dataclass(frozen=True, slots=True)
class Footprint:
    """Per-GPU memory terms of one (model, hardware, tensor parallelism, drafter), composed in one
    place: memory(), the batch evaluator, evaluate_grid and the serving KV pool all total them here.
    Methods take numbers or numpy arrays (sweeps price thousands of points per call)."""

    weights_bytes: float
    reserved_bytes: float
    usable_bytes: float
    kv_full_bytes_per_token: float
    #: (window tokens, KV bytes per token) of sliding-window layers: they stop growing at the window.
    kv_windows: tuple[tuple[int, float], ...]
    state_bytes_per_seq: float
    activation_bytes_per_token: float
    logits_bytes_per_row: float

    @classmethod
    def of(cls, model: ModelSpec, hw: HardwareProfile, tp: int = 1, draft: ModelSpec | None = None,
           draft_shared_params: float = 0.0) -> Footprint:
        full, windowed = kv_bytes_per_token(model, tp, draft)
        return cls(weight_bytes(model, tp, draft, draft_shared_params), hw.memory.reserved_runtime_bytes,
                   hw.memory.usable_bytes, full, tuple(windowed.items()),
                   state_bytes_per_seq(model, tp, draft), activation_bytes_per_token(model, tp),
                   logits_bytes_per_row(model, tp))

    def kv_bytes_per_seq(self, context):
        """KV bytes of one sequence with `context` cached tokens."""
        return _kv_bytes(self.kv_full_bytes_per_token, self.kv_windows, context)

    def activation_bytes(self, step_tokens, logit_rows):
        """Transient peak of one step: its tokens' activations and its sampled rows' logits."""
        return step_tokens * self.activation_bytes_per_token + logit_rows * self.logits_bytes_per_row

    def parts(self, batch, context, step_tokens, logit_rows=None) -> tuple:
        """(KV, state, activation) bytes of `batch` sequences at `context` in a step of `step_tokens`
        sampling `logit_rows` rows (default one per sequence)."""
        rows = batch if logit_rows is None else logit_rows
        return (batch * self.kv_bytes_per_seq(context), batch * self.state_bytes_per_seq,
                self.activation_bytes(step_tokens, rows))

    def total_bytes(self, batch, context, step_tokens, logit_rows=None):
        kv, state, act = self.parts(batch, context, step_tokens, logit_rows)
        return self.weights_bytes + kv + state + act + self.reserved_bytes

    def fits(self, batch, context, chunk_tokens: int | None = None):
        tokens = prefill_tokens(batch, context, chunk_tokens)
        return self.total_bytes(batch, context, tokens) <= self.usable_bytes

    def max_batch(self, context, chunk_tokens: int | None = None):
        """Largest batch (<= MAX_BATCH_LIMIT) fitting at `context` with prompts prefilled whole or in
        chunks; 0 if one sequence does not fit. Closed form, settled by one fits() check each way."""
        context = np.asarray(context, float)
        per_seq = self.kv_bytes_per_seq(context) + self.state_bytes_per_seq + self.logits_bytes_per_row
        room = self.usable_bytes - self.weights_bytes - self.reserved_bytes
        best = np.floor(room / (per_seq + context * self.activation_bytes_per_token))
        if chunk_tokens is not None:
            chunk_act = chunk_tokens * self.activation_bytes_per_token
            first_chunked = np.ceil(chunk_tokens / context)  # smallest batch whose prefill fills a chunk
            chunked = np.maximum(np.floor((room - chunk_act) / per_seq), first_chunked)
            best = np.where(self.fits(first_chunked, context, chunk_tokens), chunked,
                            np.minimum(best, first_chunked - 1))
        best = np.clip(best, 1, MAX_BATCH_LIMIT)
        best = np.where((best < MAX_BATCH_LIMIT) & self.fits(best + 1, context, chunk_tokens), best + 1, best)
        best = np.where((best > 1) & ~self.fits(best, context, chunk_tokens), best - 1, best)
        return np.where(self.fits(1, context, chunk_tokens), best, 0).astype(np.int64)

    def max_context(self, batch: int, upper: int, chunk_tokens: int | None = None) -> int:
        """Longest context in 1..upper at which `batch` sequences fit (0 if none)."""
        return _largest(lambda c: self.fits(batch, c, chunk_tokens), upper)


def prefill_tokens(batch, context, chunk_tokens: int | None = None):
    """Tokens of the largest prefill step: the whole batch's prompts, or one chunk."""
    return batch * context if chunk_tokens is None else np.minimum(chunk_tokens, batch * context)


def memory(model: ModelSpec, hw: HardwareProfile, batch: int, context_len: int, *, tensor_parallel: int = 1,
           prefill_chunk_tokens: int | None = None, draft: ModelSpec | None = None,
           draft_shared_params: float = 0.0) -> MemoryReport:
    """Memory needed per GPU to hold `batch` sequences of `context_len` tokens, and the limits.
    A speculative `draft` model adds its weights (less `draft_shared_params` it shares with the
    target, e.g. an EAGLE layer's embedding and output head) and its own KV cache and state."""
    if batch < 1:
        raise PerfsimInputError(f"batch must be >= 1 (got {batch}).")
    count("tensor_parallel", tensor_parallel, MAX_TENSOR_PARALLEL)
    if not 1 <= context_len <= model.max_context_len:
        raise PerfsimInputError(f"context_len {context_len} is outside 1..{model.max_context_len} "
                                f"(max_context_len of {model.id}).")
    if prefill_chunk_tokens is not None:
        count("prefill_chunk_tokens", prefill_chunk_tokens, MAX_BATCHED_TOKENS)
    tp, chunk = tensor_parallel, prefill_chunk_tokens
    foot = Footprint.of(model, hw, tp, draft, draft_shared_params)
    step_tokens = prefill_tokens(batch, context_len, chunk)
    kv, state, act = foot.parts(batch, context_len, step_tokens)
    total = float(foot.total_bytes(batch, context_len, step_tokens))
    return MemoryReport(
        weights_bytes=foot.weights_bytes, kv_cache_bytes=float(kv), state_bytes=float(state),
        activation_bytes=float(act), reserved_bytes=foot.reserved_bytes, total_bytes=total,
        usable_bytes=foot.usable_bytes, fits=total <= foot.usable_bytes,
        max_batch=int(foot.max_batch(context_len, chunk)),
        max_context_len=foot.max_context(batch, model.max_context_len, chunk),
        kv_bytes_per_token=float(foot.kv_bytes_per_seq(1)), state_bytes_per_seq=foot.state_bytes_per_seq,
        draft_bytes=(foot.weights_bytes - weight_bytes(model, tp) + batch * (
            kv_bytes_per_seq(draft, context_len, tp) + state_bytes_per_seq(draft, tp)) if draft else 0.0),
    )


def _largest(ok, upper: int) -> int:
    """Largest n in [0, upper] with ok(n) true, for a monotone predicate (0 if ok(1) fails)."""
    if not ok(1):
        return 0
    lo, hi = 1, upper
    if ok(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def require_fit(report: MemoryReport, model_id: str, hw_id: str, batch: int, context_len: int) -> None:
    if not report.fits:
        raise PerfsimInputError(report.explain(model_id, hw_id, batch, context_len))


__all__ = [
    "MAX_BATCH_LIMIT", "PREFILL_CHUNK_TOKENS", "Footprint", "MemoryReport", "memory", "kv_bytes_per_seq",
    "kv_bytes_per_token", "logits_bytes_per_row", "prefill_tokens", "state_bytes_per_seq", "weight_bytes",
    "require_fit",
]
