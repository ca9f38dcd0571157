"""Generated hybrid architectures for sweeps and search: a few numbers -> a full ModelSpec.

A design is `n_layers` token-mixing layers, each followed by an FFN sublayer (the Nemotron-H /
Nemotron-Flash layout), with a per-layer choice of mixer (attention, sliding-window attention,
Mamba2, DeltaNet, Gated DeltaNet, GLA) and of FFN (dense SwiGLU MLP or MoE). Every mixer other
than attention is the attention layer replaced by the one recipe of `perfsim.transforms.sizing`
(shared with the hybridise transform and the dashboard), so a design with some Mamba2 layers is
the all-attention design hybridised. MoE experts are sized so that top-k experts cost what the
dense FFN costs per token (iso-active-FLOP), so the MoE choice trades memory for quality.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral

from pydantic import ValidationError

from perfsim.checks import count, positive
from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.io.limits import MAX_SIZE
from perfsim.spec.model import AttentionSpec, ModelSpec
from perfsim.transforms.sizing import REPLACEMENTS, replacement

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

    def __post_init__(self) -> None:
        """Sizes are checked here so a sweep point never turns a typo into a silent clamp."""
        for field_name in ("n_layers", "hidden_size", "num_heads", "vocab_size", "window", "mamba_head_dim",
                           "mamba_state", "moe_experts", "moe_top_k", "max_context_len"):
            count(f"design: {field_name}", getattr(self, field_name), MAX_SIZE)
        # the FFN is at least one 64-wide tile: ratios that round below it are refused, not raised
        positive("design: ffn_ratio", self.ffn_ratio, 64.0)
        if self.ffn_ratio * self.hidden_size < 64:
            raise PerfsimInputError(f"design: ffn_ratio {self.ffn_ratio:g} x hidden_size {self.hidden_size} "
                                    f"gives an FFN narrower than one 64-wide tile; allowed: ffn_ratio x "
                                    f"hidden_size >= 64.")

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
        for field in ("window", "mamba_head_dim", "mamba_state", "num_kv_heads"):
            value = getattr(self, field)
            if field == "num_kv_heads" and not value:  # None or 0: the default
                continue
            if not (isinstance(value, Integral) and int(value) >= 1):
                raise PerfsimInputError(f"design: {field} must be a positive integer (got {value!r}).")
        h, heads = self.hidden_size, self.num_heads
        if heads < 1 or h % heads:
            raise PerfsimInputError(f"design: hidden_size ({h}) must be a multiple of num_heads ({heads}).")
        kv = self.num_kv_heads or max(heads // 4, 1)
        if heads % kv:
            raise PerfsimInputError(f"design: num_heads ({heads}) must be a multiple of num_kv_heads ({kv}).")
        inner = max(64, int(round(self.ffn_ratio * h / 64)) * 64)
        ops = {"mlp": {"type": "mlp", "intermediate_size": inner, "activation": "swiglu"},
               "moe": {"type": "moe", "num_experts": self.moe_experts, "top_k": self.moe_top_k,
                       "expert_intermediate_size": max(64, int(round(inner / self.moe_top_k / 64)) * 64)}}
        pattern = "".join(_LETTER[m] + _LETTER[f] for m, f in zip(mixers, ffns, strict=True))
        used = set(mixers) | set(ffns)
        try:
            attention = AttentionSpec(num_heads=heads, num_kv_heads=kv, head_dim=h // heads)
            ops["attention"] = attention.model_dump()
            ops.update({kind: replacement(kind, attention, h, self.max_context_len, window=self.window,
                                          mamba_head_dim=self.mamba_head_dim,
                                          mamba_state=self.mamba_state).model_dump()
                        for kind in REPLACEMENTS if kind in used})
            return ModelSpec.model_validate({
                "id": self.design_id,
                "display_name": self.design_id,
                "source": {"url": "synthetic: perfsim.explore.design.HybridDesign",
                           "note": str(asdict(self))},
                "hidden_size": h,
                "vocab_size": self.vocab_size,
                "tie_embeddings": self.tie_embeddings,
                "max_context_len": self.max_context_len,
                "operators": {k: v for k, v in ops.items() if k in used},
                "layer_pattern": pattern,
                "pattern_ops": {_LETTER[k]: k for k in used},
            })
        except ValidationError as exc:
            raise describe_validation_error(f"design {self.design_id}", exc) from None
