"""Device memory: weights, KV cache, recurrent state, activations, runtime reserve; fit and limits.

KV is exact: 2 (K and V) x KV heads x head_dim x bytes per cached token per attention layer,
capped at the window for sliding-window layers. Mamba2 / linear-attention state is constant per
sequence. Activations are the transient peak of the largest step: by default the whole batch's
prompts prefilled at once (static batching); pass `prefill_chunk_tokens` for chunked prefill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.cost.params import model_params
from perfsim.errors import PerfsimInputError
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import (
    AttentionSpec,
    LinearAttentionSpec,
    LinearSpec,
    Mamba2Spec,
    MLPSpec,
    ModelSpec,
    MoESpec,
)
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
        )
        if self.fits:
            return f"{head}; it fits (max batch at this context {self.max_batch})."
        return (
            f"{head}: it does not fit, short by {format_bytes(self.shortfall_bytes)}; "
            f"max batch at this context is {self.max_batch}, max context at this batch is "
            f"{self.max_context_len}."
        )

    def to_dict(self) -> dict[str, float | bool | int]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["shortfall_bytes"] = self.shortfall_bytes
        return out


def kv_bytes_per_token(model: ModelSpec, tp: int = 1,
                       draft: ModelSpec | None = None) -> tuple[float, dict[int, float]]:
    """KV bytes per cached token: of layers that keep every token, and of sliding-window layers
    by window (those stop growing at their window); a speculative `draft`'s layers included."""
    kvb = DTYPE_BYTES[model.dtypes.kv_cache]
    full, windowed = 0.0, {}
    for op in model.sublayers:
        if isinstance(op, AttentionSpec):
            per_token = 2 * max(op.num_kv_heads // tp, 1) * op.head_dim * kvb
            if op.window is None:
                full += per_token
            else:
                windowed[op.window] = windowed.get(op.window, 0.0) + per_token
    if draft is not None:
        draft_full, draft_windowed = kv_bytes_per_token(draft, tp)
        full += draft_full
        for window, per_token in draft_windowed.items():
            windowed[window] = windowed.get(window, 0.0) + per_token
    return full, windowed


def kv_bytes_per_seq(model: ModelSpec, context_len, tp: int = 1, draft: ModelSpec | None = None):
    """KV bytes of one sequence at `context_len` cached tokens (a number or a numpy array)."""
    full, windowed = kv_bytes_per_token(model, tp, draft)
    return full * context_len + sum(b * np.minimum(context_len, w) for w, b in windowed.items())


def state_bytes_per_seq(model: ModelSpec, tp: int = 1, draft: ModelSpec | None = None) -> float:
    """Recurrent (Mamba / linear-attention) state and conv windows of one sequence."""
    sb, ab = DTYPE_BYTES[model.dtypes.state], DTYPE_BYTES[model.dtypes.activations]
    total = 0.0
    for op in model.sublayers:
        if isinstance(op, Mamba2Spec):
            heads = op.num_heads // tp
            conv_ch = heads * op.head_dim + 2 * max(op.n_groups // tp, 1) * op.state_size
            total += heads * op.head_dim * op.state_size * sb + conv_ch * (op.conv_kernel - 1) * ab
        elif isinstance(op, LinearAttentionSpec):
            heads = op.num_heads // tp
            conv_ch = heads * (2 * op.head_k_dim + op.head_v_dim)
            total += heads * op.head_k_dim * op.head_v_dim * sb
            total += conv_ch * max(op.conv_kernel - 1, 0) * ab
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
    widest = h
    for op in model.sublayers:
        if isinstance(op, AttentionSpec):
            w = (op.num_heads + 2 * op.num_kv_heads) * op.head_dim + op.num_heads * op.head_dim
        elif isinstance(op, MLPSpec):
            w = op.intermediate_size * (3 if op.gated else 2)
        elif isinstance(op, MoESpec):
            w = op.top_k * (op.expert_intermediate_size * (3 if op.gated else 2) + h)
        elif isinstance(op, LinearSpec):
            w = h
        elif isinstance(op, Mamba2Spec):
            w = 2 * (2 * op.num_heads * op.head_dim + 2 * op.n_groups * op.state_size + op.num_heads)
        else:
            w = 2 * op.num_heads * (2 * op.head_k_dim + 2 * op.head_v_dim)
        widest = max(widest, w / tp)
    return (2 * h + widest) * DTYPE_BYTES[model.dtypes.activations]


def memory(
    model: ModelSpec,
    hw: HardwareProfile,
    batch: int,
    context_len: int,
    *,
    tensor_parallel: int = 1,
    prefill_chunk_tokens: int | None = None,
    draft: ModelSpec | None = None,
    draft_shared_params: float = 0.0,
) -> MemoryReport:
    """Memory needed per GPU to hold `batch` sequences of `context_len` tokens, and the limits.

    A speculative `draft` model adds its weights (less `draft_shared_params` it shares with the
    target, e.g. an EAGLE layer's embedding and output head) and its own KV cache and state.
    """
    if batch < 1:
        raise PerfsimInputError(f"batch must be >= 1 (got {batch}).")
    if not 1 <= context_len <= model.max_context_len:
        raise PerfsimInputError(
            f"context_len {context_len} is outside 1..{model.max_context_len} "
            f"(max_context_len of {model.id})."
        )
    if prefill_chunk_tokens is not None and prefill_chunk_tokens < 1:
        raise PerfsimInputError(f"prefill_chunk_tokens must be >= 1 (got {prefill_chunk_tokens}).")
    tp = tensor_parallel
    weights = weight_bytes(model, tp, draft, draft_shared_params)
    act_tok = activation_bytes_per_token(model, tp)
    logits_row = logits_bytes_per_row(model, tp)
    state = state_bytes_per_seq(model, tp, draft)

    def kv_per_seq(ctx: int) -> float:
        return kv_bytes_per_seq(model, ctx, tp, draft)

    reserved = hw.memory.reserved_runtime_bytes
    usable = hw.memory.usable_bytes

    def need(b: int, ctx: int) -> tuple[float, float, float]:
        step_tokens = b * ctx if prefill_chunk_tokens is None else min(prefill_chunk_tokens, b * ctx)
        acts = step_tokens * act_tok + b * logits_row
        return b * kv_per_seq(ctx), b * state, acts

    kv, st, act = need(batch, context_len)
    total = weights + kv + st + act + reserved
    max_batch = _largest(lambda b: weights + sum(need(b, context_len)) + reserved <= usable, 1 << 24)
    max_ctx = _largest(lambda c: weights + sum(need(batch, c)) + reserved <= usable, model.max_context_len)
    return MemoryReport(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        state_bytes=st,
        activation_bytes=act,
        reserved_bytes=reserved,
        total_bytes=total,
        usable_bytes=usable,
        fits=total <= usable,
        max_batch=max_batch,
        max_context_len=max_ctx,
        kv_bytes_per_token=kv_per_seq(1),
        state_bytes_per_seq=state,
        draft_bytes=(weights - weight_bytes(model, tp) + batch * (kv_bytes_per_seq(draft, context_len, tp)
                     + state_bytes_per_seq(draft, tp)) if draft else 0.0),
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
    "MemoryReport", "memory", "kv_bytes_per_seq", "kv_bytes_per_token", "logits_bytes_per_row",
    "state_bytes_per_seq", "weight_bytes", "require_fit",
]
