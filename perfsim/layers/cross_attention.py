"""Gated cross-attention to a fixed set of encoder tokens (Llama-3.2-Vision / mllama image layers).

Text queries attend to `num_context_tokens` image tokens that the vision encoder and projector
produce once per request. The image K/V are projected once, at prefill, and then read by every
decode step: they are per-sequence state, not per-token KV cache, so the layer adds no bytes per
generated token but a fixed block per sequence. mllama's layer carries q/k RMSNorms (one head_dim
weight each) and two tanh gates (one scalar for the attention output, one for the MLP that
follows it in the same decoder layer; HF MllamaCrossAttentionDecoderLayer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from perfsim.layers.base import DECODE, PREFILL, TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Attention
from perfsim.spec.base import PosInt, _Strict

#: Image tokens Llama-3.2-Vision attends to per image: 4 tiles x (1600 patches of 14 px on a
#: 560 px tile + 1 class token) = 6404 (HF MllamaVisionModel: max_num_tiles 4, image_size 560).
MLLAMA_IMAGE_TOKENS = 4 * (1600 + 1)


class CrossAttentionSpec(_Strict):
    """Queries from the text stream, keys/values from `num_context_tokens` encoder tokens."""

    type: Literal["cross_attention"] = "cross_attention"
    num_heads: PosInt
    num_kv_heads: PosInt
    head_dim: PosInt
    num_context_tokens: PosInt = MLLAMA_IMAGE_TOKENS
    qk_norm: bool = True
    gates: int = 2  # tanh gate scalars the layer owns (attention + following MLP in mllama)

    @model_validator(mode="after")
    def _heads_group(self) -> CrossAttentionSpec:
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_heads ({self.num_heads}) must be a multiple of num_kv_heads ({self.num_kv_heads})"
            )
        return self


@register_layer
class CrossAttentionKind(LayerKind):
    spec = CrossAttentionSpec
    mixes_tokens = True  # it opens a decoder layer, like the self-attention it stands beside

    def params(self, spec: CrossAttentionSpec, hidden: int) -> ParamCount:
        q, kv = spec.num_heads * spec.head_dim, spec.num_kv_heads * spec.head_dim
        n = hidden * (q + 2 * kv) + q * hidden + spec.gates
        n += 2 * spec.head_dim if spec.qk_norm else 0
        return dense(n)

    def state_bytes_per_seq(
        self, spec: CrossAttentionSpec, state_bytes: float, act_bytes: float, tp: int
    ) -> float:
        # the image K/V block, kept for the whole request in the activation dtype
        return 2 * max(spec.num_kv_heads // tp, 1) * spec.head_dim * spec.num_context_tokens * act_bytes

    def activation_width(self, spec: CrossAttentionSpec, hidden: int) -> float:
        return 2 * spec.num_heads * spec.head_dim

    def kernels(self, spec: CrossAttentionSpec, b: StepBuilder) -> list[Kernel]:
        s = b.s
        hq = b.split(spec.num_heads, "num_heads")
        hkv = max(spec.num_kv_heads // b.tp, 1)
        d, ctx = spec.head_dim, spec.num_context_tokens
        common = dict(num_heads=hq, num_kv_heads=hkv, head_dim=d, dtype=b.a, kv_dtype=b.a, causal=False)
        # a prefill chunk that starts a request projects its image tokens to K/V once
        new_images = s.prefill_seqs * (s.prefill_past == 0) * ctx
        return [
            b.pre_norm(),
            Kernel("q_proj", b.gemm(b.t, hq * d, b.h), TOKEN),
            Kernel("image_kv_proj", b.gemm(new_images, 2 * hkv * d, b.h), PREFILL),
            Kernel(
                "xattn_decode",
                Attention(
                    "decode", s.decode_seqs, s.decode_tokens, ctx, impl=b.attention_impl["decode"], **common
                ),
                DECODE,
            ),
            Kernel(
                "xattn_prefill",
                Attention(
                    "prefill",
                    s.prefill_seqs,
                    s.prefill_tokens,
                    ctx,
                    impl=b.attention_impl["prefill"],
                    **common,
                ),
                PREFILL,
            ),
            Kernel("o_proj", b.gemm(b.t, b.h, hq * d), TOKEN),
            *b.allreduce(),
        ]

    def loss_kind(self, spec: CrossAttentionSpec) -> str:
        return "attention"


__all__ = ["MLLAMA_IMAGE_TOKENS", "CrossAttentionKind", "CrossAttentionSpec"]
