"""How edited layers are sized: one rounding rule for scaled widths and one replacement recipe.

Every edit that shrinks a width (width, elastic) or swaps an attention layer for another token
mixer (hybridise, `perfsim.explore.design.HybridDesign`, the dashboard's operator mix) sizes the
new operator here, so the same request gives the same layer wherever it is made. The recipe
follows the bundled Nemotron-Flash description (models/nemotron-flash-1b.yaml) and its
operator study: Mamba2 with expand 2, 64-wide heads, state 128, one group, chunk 128; linear
attention with the replaced layer's heads and head size for q/k/v; sliding windows of 512.
"""

from __future__ import annotations

from typing import Literal, cast

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import AttentionSpec, LinearAttentionSpec, Mamba2Spec

#: Token mixers that can stand in for a full-attention layer.
REPLACEMENTS = ("sliding_window", "mamba2", "deltanet", "gated_deltanet", "gla")
LinearVariant = Literal["deltanet", "gated_deltanet", "gla"]
#: Window of a sliding-window replacement (the Nemotron-Flash operator study).
SWA_WINDOW = 512
MAMBA_HEAD_DIM = 64
MAMBA_STATE = 128
MAMBA_CHUNK = 128
#: Mamba2 inner width over hidden size (d_inner = expand x hidden).
MAMBA_EXPAND = 2


def scaled(value: int, ratio: float, multiple: int = 64) -> int:
    """`value * ratio` rounded to the original's granularity (64 when it was a multiple of 64),
    so scaled widths stay as GEMM-friendly as the ones they came from."""
    step = multiple if value % multiple == 0 else 1
    return max(step, int(round(value * ratio / step)) * step)


def replacement(kind: str, attention: AttentionSpec, hidden_size: int, max_context_len: int, *,
                window: int | None = None, mamba_head_dim: int = MAMBA_HEAD_DIM,
                mamba_state: int = MAMBA_STATE) -> AttentionSpec | Mamba2Spec | LinearAttentionSpec:
    """The `kind` layer that replaces `attention` in a model of width `hidden_size`.

    Sliding-window attention keeps the heads and narrows the window (capped at the context);
    linear attention keeps heads and head size; Mamba2 is sized from the hidden size, since its
    state, not its heads, plays the role of the KV cache.
    """
    if kind == "sliding_window":
        window = SWA_WINDOW if window is None else window
        return attention.model_copy(update={"window": min(window, max_context_len)})
    if kind == "mamba2":
        return Mamba2Spec(num_heads=max(MAMBA_EXPAND * hidden_size // mamba_head_dim, 1),
                          head_dim=mamba_head_dim, state_size=mamba_state, chunk_size=MAMBA_CHUNK)
    if kind in ("deltanet", "gated_deltanet", "gla"):
        return LinearAttentionSpec(variant=cast(LinearVariant, kind), num_heads=attention.num_heads,
                                   head_k_dim=attention.head_dim, head_v_dim=attention.head_dim)
    raise PerfsimInputError(f"kind must be one of {', '.join(REPLACEMENTS)} (got {kind!r}).")
