"""Model descriptions: an ordered list of sublayers, each one operator with its pre-norm.

A transformer layer is two sublayers (attention, MLP); a Nemotron-H layer is one (Mamba2, MLP,
attention or MoE). Hybrids and heterogeneous (Puzzle-style) stacks are therefore first-class: the
YAML either lists blocks of operator names (with `repeat`) or gives a one-letter `layer_pattern`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field, model_validator

from perfsim.io.limits import MAX_SUBLAYERS
from perfsim.layers import layer_kind, layer_kinds
from perfsim.layers.attention import AttentionSpec
from perfsim.layers.linear import LinearSpec
from perfsim.layers.linear_attention import LinearAttentionSpec
from perfsim.layers.mamba2 import Mamba2Spec
from perfsim.layers.mla import MLASpec
from perfsim.layers.mlp import MLPSpec
from perfsim.layers.moe import MoESpec
from perfsim.spec.base import Activation, DTypeName, PosInt, _Strict
from perfsim.units import DTYPE_BYTES

#: Any registered layer kind's spec, told apart by its `type` (perfsim.layers registers them).
#: Type checkers see the built-in kinds; at run time the union is whatever is registered.
if TYPE_CHECKING:
    OperatorSpec = Annotated[AttentionSpec | MLASpec | Mamba2Spec | LinearAttentionSpec | MLPSpec | MoESpec
                             | LinearSpec, Field(discriminator="type")]
else:
    OperatorSpec = Annotated[Union[tuple(kind.spec for kind in layer_kinds())],  # noqa: UP007
                             Field(discriminator="type")]


class Block(_Strict):
    """`ops` in order, repeated `repeat` times."""

    ops: list[str] = Field(min_length=1)
    repeat: PosInt = 1


class DTypes(_Strict):
    weights: DTypeName = "bf16"
    activations: DTypeName = "bf16"
    kv_cache: DTypeName = "bf16"
    state: DTypeName = "fp32"  # recurrent SSM / linear-attention state


class Source(_Strict):
    url: str
    note: str = ""


class PublishedAccuracy(_Strict):
    """Published benchmark scores in percent, used as-is by `perfsim.accuracy` ("measured").

    Keys name the benchmark (e.g. `mmlu`); scores from one `source` share its evaluation setup,
    so compare a key across models only when their sources evaluated it the same way.
    """

    scores: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(min_length=1)
    source: Source
    #: Pre-training tokens, for the scaling-law accuracy model.
    training_tokens: float | None = Field(default=None, gt=0)


class VisionEncoderSpec(_Strict):
    """ViT image encoder + pixel-shuffle projector in front of the LLM (InternVL/RADIO style).

    A frame (or image tile) of `image_size_px` squared gives (image_size_px / patch_size_px)^2
    patches through `num_layers` pre-norm blocks; pixel shuffle merges `pixel_shuffle`^2
    neighbouring patches into one LLM token; a 2-layer MLP projects to the LLM width. Set
    `measured_s_per_tile` to use a measured encoder time instead of the roofline.
    """

    image_size_px: PosInt
    patch_size_px: PosInt
    num_layers: PosInt
    hidden_size: PosInt
    num_heads: PosInt
    intermediate_size: PosInt
    activation: Activation = "gelu"
    #: Class/register tokens the ViT carries besides the patches (dropped before the LLM).
    extra_tokens: int = Field(default=0, ge=0)
    pixel_shuffle: PosInt = 2
    projector_intermediate_size: PosInt
    measured_s_per_tile: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _geometry(self) -> VisionEncoderSpec:
        side = self.image_size_px // self.patch_size_px
        if self.image_size_px % self.patch_size_px or side % self.pixel_shuffle:
            raise ValueError(
                f"image_size_px ({self.image_size_px}) must be a multiple of patch_size_px "
                f"({self.patch_size_px}) x pixel_shuffle ({self.pixel_shuffle})"
            )
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads ({self.num_heads})"
            )
        return self

    @property
    def patches_per_tile(self) -> int:
        return (self.image_size_px // self.patch_size_px) ** 2

    @property
    def tokens_per_tile(self) -> int:
        """LLM tokens one tile (or video frame) becomes after pixel shuffle."""
        return self.patches_per_tile // self.pixel_shuffle**2


class ModelSpec(_Strict):
    schema_version: Literal[1] = 1
    id: str
    display_name: str
    source: Source
    published_params: float | None = Field(default=None, gt=0)
    published_active_params: float | None = Field(default=None, gt=0)
    hidden_size: PosInt
    vocab_size: PosInt
    tie_embeddings: bool = False
    max_context_len: PosInt
    norm: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    #: Extra embedding rows not in the output vocabulary (Nemotron-Flash memory tokens).
    extra_embedding_rows: int = Field(default=0, ge=0)
    #: Learned tokens prepended to every prompt (Nemotron-Flash meta tokens).
    prefix_tokens: int = Field(default=0, ge=0)
    dtypes: DTypes = DTypes()
    operators: dict[str, OperatorSpec]
    blocks: list[Block] | None = None
    layer_pattern: str | None = None
    pattern_ops: dict[str, str] | None = None
    accuracy: PublishedAccuracy | None = None
    #: Image/video encoder of a vision-language model (perfsim.cost.vision prices it).
    vision: VisionEncoderSpec | None = None
    #: Provenance: descriptions of the perfsim.transforms applied to the base model, in order.
    applied_transforms: list[str] | None = None

    @model_validator(mode="after")
    def _layout(self) -> ModelSpec:
        if (self.blocks is None) == (self.layer_pattern is None):
            raise ValueError("give exactly one of 'blocks' or 'layer_pattern'")
        depth = len(self.layer_pattern or "") + sum(len(b.ops) * b.repeat for b in self.blocks or [])
        if depth == 0:
            raise ValueError("the model has no sublayers; give at least one block with ops (or a "
                             "non-empty layer_pattern)")
        if depth > MAX_SUBLAYERS:
            counted = "layer_pattern letters" if self.layer_pattern else "ops x repeat over the blocks"
            raise ValueError(f"the model has {depth:,} sublayers ({counted}); the limit is "
                             f"{MAX_SUBLAYERS:,}, far above any published model")
        if self.layer_pattern is not None:
            if not self.pattern_ops:
                raise ValueError("'layer_pattern' needs 'pattern_ops' mapping letters to operators")
            unknown = sorted(set(self.layer_pattern) - set(self.pattern_ops))
            if unknown:
                raise ValueError(f"layer_pattern letters {unknown} are not in pattern_ops")
        names = self.sublayer_names
        missing = sorted(set(names) - set(self.operators))
        if missing:
            raise ValueError(f"layers use undefined operator(s) {missing}")
        for name, op in self.operators.items():
            window = getattr(op, "window", None)
            if window and window > self.max_context_len:
                raise ValueError(
                    f"operators.{name}.window ({window}) must be <= max_context_len "
                    f"({self.max_context_len})"
                )
        return self

    @cached_property
    def sublayer_names(self) -> tuple[str, ...]:
        if self.layer_pattern is not None:
            return tuple(self.pattern_ops[c] for c in self.layer_pattern)  # type: ignore[index]
        return tuple(op for b in self.blocks or [] for _ in range(b.repeat) for op in b.ops)

    @cached_property
    def sublayers(self) -> tuple[OperatorSpec, ...]:
        return tuple(self.operators[n] for n in self.sublayer_names)

    @property
    def num_mixer_layers(self) -> int:
        """Token-mixing sublayers (attention, Mamba2, linear attention, ...): the usual 'depth'."""
        return sum(layer_kind(s).mixes_tokens for s in self.sublayers)

    @property
    def weight_bytes_per_param(self) -> float:
        return DTYPE_BYTES[self.dtypes.weights]


__all__ = [
    "Activation", "AttentionSpec", "Block", "DTypeName", "DTypes", "LinearAttentionSpec", "LinearSpec",
    "MLASpec", "MLPSpec", "Mamba2Spec", "ModelSpec", "MoESpec", "OperatorSpec", "PosInt",
    "PublishedAccuracy", "Source", "VisionEncoderSpec", "_Strict",
]
