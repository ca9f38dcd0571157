"""Sidebar inputs for the decoding strategy (autoregressive, speculative, block diffusion, TiDAR)."""

from __future__ import annotations

from perfsim.dashboard.form import Form
from perfsim.decoding import BlockDiffusion, DecodingStrategy, Speculative, TiDAR, make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import list_ids
from perfsim.spec.model import ModelSpec

DECODINGS = {"autoregressive": "Autoregressive", "speculative": "Speculative (draft + verify)",
             "block_diffusion": "Block diffusion", "tidar": "TiDAR"}
KINDS: dict[str, type] = {"decoding": str, "spec_draft": str, "spec_k": float, "spec_acc": float,
                          "diff_block": float, "diff_sub": float, "diff_tps": float, "tidar_draft": float,
                          "tidar_tpf": float}


def _build(form: Form, name: str, model: ModelSpec | None) -> DecodingStrategy | None:
    if name == "speculative":
        drafters = ["eagle", "mtp", *list_ids("models")]
        draft = form.select("Drafter", drafters, "spec_draft", "eagle", help="EAGLE or MTP head "
                            "(one decoder layer on the target), or a separate draft model")
        k = form.number("Draft length k", "spec_k", 4, min_value=1, max_value=64, whole=True)
        alpha = form.slider("Acceptance rate per draft token", "spec_acc", 0.7, min_value=0.0, max_value=1.0,
                            step=0.05, help="i.i.d. per position; expected tokens per verify = "
                                            "(1 - a^(k+1)) / (1 - a)")
        if k is None:
            return None
        strategy = Speculative(k=k, acceptance=alpha, draft=draft)
        if model is not None:
            strategy.drafter(model)  # a draft model must share the target's vocabulary
        return strategy
    if name == "block_diffusion":
        block = form.number("Block size", "diff_block", 32, min_value=1, max_value=4096, whole=True)
        sub = form.number("Sub-block (queries per forward)", "diff_sub", 8, min_value=1, max_value=4096,
                          whole=True)
        tps = form.number("Tokens finalised per step", "diff_tps", 2.0, min_value=0.01, max_value=4096.0,
                          step=0.5, fmt="%.2f", help="measured mean; no built-in default in perfsim")
        if None in (block, sub, tps):
            return None
        return BlockDiffusion(block_size=block, sub_block_size=sub, tokens_per_step=tps)
    if name == "tidar":
        draft_len = form.number("Draft length", "tidar_draft", 16, min_value=1, max_value=256, whole=True)
        tpf = form.number("Tokens per forward (T/NFE)", "tidar_tpf", 3.0, min_value=0.01, max_value=257.0,
                          step=0.25, fmt="%.2f", help="measured tokens per network evaluation")
        if None in (draft_len, tpf):
            return None
        return TiDAR(draft_len=draft_len, tokens_per_forward=tpf)
    return make_decoding(name)


def from_values(values: dict) -> DecodingStrategy:
    """The strategy a snapshot of the inputs describes (a pinned baseline), defaults where unset."""
    name = values.get("decoding", "autoregressive")
    if name == "speculative":
        return Speculative(k=int(values.get("spec_k", 4)), acceptance=float(values.get("spec_acc", 0.7)),
                           draft=values.get("spec_draft", "eagle"))
    if name == "block_diffusion":
        return BlockDiffusion(block_size=int(values.get("diff_block", 32)),
                              sub_block_size=int(values.get("diff_sub", 8)),
                              tokens_per_step=float(values.get("diff_tps", 2.0)))
    if name == "tidar":
        return TiDAR(draft_len=int(values.get("tidar_draft", 16)),
                     tokens_per_forward=float(values.get("tidar_tpf", 3.0)))
    return make_decoding(name)


def decoding(form: Form, model: ModelSpec | None) -> DecodingStrategy | None:
    """The strategy the inputs describe, or None (a sentence under the field) when not valid."""
    name = form.select("Decoding strategy", list(DECODINGS), "decoding", "autoregressive",
                       format_func=DECODINGS.__getitem__)
    try:
        return _build(form, name, model)
    except PerfsimInputError as exc:
        form.error("decoding", str(exc))
        return None
