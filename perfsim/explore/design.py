"""Generated hybrid architectures for sweeps and search: a few numbers -> a full ModelSpec.

A design is `n_layers` token-mixing layers, each followed by an FFN sublayer (the Nemotron-H /
Nemotron-Flash layout), with a per-layer choice of mixer (attention, sliding-window attention,
Mamba2, DeltaNet, Gated DeltaNet, GLA) and of FFN (dense SwiGLU MLP or MoE). Conventions follow the
bundled Nemotron-Flash description (models/nemotron-flash-1b.yaml): Mamba2 expand 2 with 64-wide
heads and state 128; linear attention with q/k/v widths equal to the hidden size; SWA window 512
(the Nemotron-Flash operator study). MoE experts are sized so that top-k experts cost what the
dense FFN costs per token (iso-active-FLOP), so the MoE choice trades memory for quality.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.spec.model import ModelSpec

MIXERS = ("attention", "sliding_window", "mamba2", "deltanet", "gated_deltanet", "gla")
FFNS = ("mlp", "moe")
_LETTER = {
    "attention": "A",
    "sliding_window": "S",
    "mamba2": "M",
    "deltanet": "D",
    "gated_deltanet": "G",
    "gla": "L",
    "mlp": "f",
    "moe": "E",
}


@dataclass(frozen=True)
class HybridDesign:
    n_layers: int
    hidden_size: int
    ffn_ratio: float = 3.0
    num_heads: int = 16
    num_kv_heads: int | None = None  # default: a quarter of num_heads (GQA), at least 1
    mixers: str | tuple[str, ...] = "attention"  # one name for every layer, or one per layer
    ffns: str | tuple[str, ...] = "mlp"
    vocab_size: int = 32000
    tie_embeddings: bool = True
    window: int = 512
    mamba_head_dim: int = 64
    mamba_state: int = 128
    moe_experts: int = 8
    moe_top_k: int = 2
    max_context_len: int = 131072
    name: str | None = None

    def _per_layer(self, value, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
        names = (value,) * self.n_layers if isinstance(value, str) else tuple(value)
        if len(names) != self.n_layers:
            raise PerfsimInputError(
                f"design: {what} lists {len(names)} entries; it needs n_layers={self.n_layers}."
            )
        bad = sorted(set(names) - set(allowed))
        if bad:
            raise PerfsimInputError(f"design: unknown {what} {bad}; allowed: {', '.join(allowed)}.")
        return names

    def layer_kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(mixer per layer, FFN per layer)."""
        if self.n_layers < 1:
            raise PerfsimInputError(f"design: n_layers must be >= 1 (got {self.n_layers}).")
        return self._per_layer(self.mixers, MIXERS, "mixers"), self._per_layer(self.ffns, FFNS, "ffns")

    @property
    def design_id(self) -> str:
        if self.name:
            return self.name
        mixers, ffns = self.layer_kinds()
        mix = "".join(_LETTER[m] for m in mixers)
        mix = mix[0] if len(set(mix)) == 1 else mix
        moe = "-moe" if "moe" in ffns else ""
        return f"L{self.n_layers}-H{self.hidden_size}-r{self.ffn_ratio:g}-h{self.num_heads}-{mix}{moe}"

    def to_model(self) -> ModelSpec:
        """The ModelSpec of this design; an impossible shape is one sentence naming the field."""
        mixers, ffns = self.layer_kinds()
        h, heads = self.hidden_size, self.num_heads
        if heads < 1 or h % heads:
            raise PerfsimInputError(f"design: hidden_size ({h}) must be a multiple of num_heads ({heads}).")
        kv = self.num_kv_heads or max(heads // 4, 1)
        if heads % kv:
            raise PerfsimInputError(f"design: num_heads ({heads}) must be a multiple of num_kv_heads ({kv}).")
        head_dim = h // heads
        inner = max(64, int(round(self.ffn_ratio * h / 64)) * 64)
        ops = {
            "attention": {"type": "attention", "num_heads": heads, "num_kv_heads": kv, "head_dim": head_dim},
            "sliding_window": {
                "type": "attention",
                "num_heads": heads,
                "num_kv_heads": kv,
                "head_dim": head_dim,
                "window": min(self.window, self.max_context_len),
            },
            "mamba2": {
                "type": "mamba2",
                "num_heads": max(2 * h // self.mamba_head_dim, 1),
                "head_dim": self.mamba_head_dim,
                "state_size": self.mamba_state,
                "chunk_size": 128,
            },
            "mlp": {"type": "mlp", "intermediate_size": inner, "activation": "swiglu"},
            "moe": {
                "type": "moe",
                "num_experts": self.moe_experts,
                "top_k": self.moe_top_k,
                "expert_intermediate_size": max(64, int(round(inner / self.moe_top_k / 64)) * 64),
            },
        }
        for variant in ("deltanet", "gated_deltanet", "gla"):
            ops[variant] = {
                "type": "linear_attention",
                "variant": variant,
                "num_heads": heads,
                "head_k_dim": head_dim,
                "head_v_dim": head_dim,
            }
        pattern = "".join(_LETTER[m] + _LETTER[f] for m, f in zip(mixers, ffns, strict=True))
        used = set(mixers) | set(ffns)
        data = {
            "id": self.design_id,
            "display_name": self.design_id,
            "source": {"url": "synthetic: perfsim.explore.design.HybridDesign", "note": str(asdict(self))},
            "hidden_size": h,
            "vocab_size": self.vocab_size,
            "tie_embeddings": self.tie_embeddings,
            "max_context_len": self.max_context_len,
            "operators": {k: v for k, v in ops.items() if k in used},
            "layer_pattern": pattern,
            "pattern_ops": {_LETTER[k]: k for k in used},
        }
        try:
            return ModelSpec.model_validate(data)
        except ValidationError as exc:
            raise describe_validation_error(f"design {self.design_id}", exc) from None
