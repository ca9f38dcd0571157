"""Softmax attention (MHA, GQA, MQA; optional sliding window, biases, QK-norm, gpt-oss sinks)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from perfsim.layers.base import DECODE, PREFILL, TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Attention, Elementwise
from perfsim.spec.base import PosInt, _Strict
from perfsim.units import DTYPE_BYTES


class AttentionSpec(_Strict):
    """Softmax attention: MHA when num_kv_heads == num_heads, GQA/MQA otherwise."""

    type: Literal["attention"] = "attention"
    num_heads: PosInt
    num_kv_heads: PosInt
    head_dim: PosInt
    window: PosInt | None = None  # sliding-window attention when set
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: bool = False
    sinks: bool = False  # gpt-oss learned attention sinks (one scalar per head)

    @model_validator(mode="after")
    def _heads_group(self) -> AttentionSpec:
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_heads ({self.num_heads}) must be a multiple of num_kv_heads "
                f"({self.num_kv_heads})"
            )
        return self


@register_layer
class AttentionKind(LayerKind):
    spec = AttentionSpec
    mixes_tokens = True
    softmax_attention = True

    def params(self, spec: AttentionSpec, hidden: int) -> ParamCount:
        q, kv = spec.num_heads * spec.head_dim, spec.num_kv_heads * spec.head_dim
        n = hidden * (q + 2 * kv) + q * hidden
        n += (q + 2 * kv) if spec.qkv_bias else 0
        n += hidden if spec.o_bias else 0
        n += 2 * spec.head_dim if spec.qk_norm else 0
        n += spec.num_heads if spec.sinks else 0
        return dense(n)

    def kv_cache(self, spec: AttentionSpec, kv_bytes: float, tp: int) -> tuple[float, int | None]:
        # KV heads are replicated when tp > num_kv_heads
        return 2 * max(spec.num_kv_heads // tp, 1) * spec.head_dim * kv_bytes, spec.window

    def activation_width(self, spec: AttentionSpec, hidden: int) -> float:
        return (spec.num_heads + 2 * spec.num_kv_heads) * spec.head_dim + spec.num_heads * spec.head_dim

    def kernels(self, spec: AttentionSpec, b: StepBuilder) -> list[Kernel]:
        s, tp = b.s, b.tp
        hq = b.split(spec.num_heads, "num_heads")
        hkv = max(spec.num_kv_heads // tp, 1)  # KV heads are replicated when tp > num_kv_heads
        d, kvb = spec.head_dim, DTYPE_BYTES[b.m.dtypes.kv_cache]
        qkv_width = (hq + 2 * hkv) * d
        new_kv = b.t * 2 * hkv * d * kvb
        common: dict[str, Any] = dict(num_heads=hq, num_kv_heads=hkv, head_dim=d, window=spec.window,
                      dtype=b.a, kv_dtype=b.m.dtypes.kv_cache)
        return [
            b.pre_norm(),
            Kernel("qkv_proj", b.gemm(b.t, qkv_width, b.h), TOKEN),
            Kernel("rope_kv_write", Elementwise("rope", b.t * qkv_width * b.ab,
                                                b.t * (hq + hkv) * d * b.ab + new_kv), TOKEN),
            Kernel("attn_decode", Attention("decode", s.decode_seqs, s.decode_tokens,
                                            s.decode_context + s.decode_tokens,
                                            impl=b.attention_impl["decode"], **common), DECODE),
            Kernel("attn_prefill", Attention("prefill", s.prefill_seqs, s.prefill_tokens,
                                             s.prefill_past + s.prefill_tokens, causal=s.prefill_causal,
                                             impl=b.attention_impl["prefill"], **common), PREFILL),
            Kernel("o_proj", b.gemm(b.t, b.h, hq * d), TOKEN),
            *b.allreduce(),
        ]

    def loss_kind(self, spec: AttentionSpec) -> str:
        return "attention" if spec.window is None else "sliding_window"
