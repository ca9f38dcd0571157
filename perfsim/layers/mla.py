"""Multi-head latent attention (MLA; DeepSeek-V2 arXiv 2405.04434, DeepSeek-V3 arXiv 2412.19437).

Keys and values are compressed into one latent of `kv_lora_rank` per token plus a shared RoPE key
of `qk_rope_head_dim`; only that latent is cached, so a token costs (kv_lora_rank +
qk_rope_head_dim) values per layer, replicated on every tensor-parallel GPU (there is one latent,
not one per head). Parameters follow the Hugging Face modeling code: q_a_proj, q_a_layernorm,
q_b_proj (or a plain q_proj without `q_lora_rank`), kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj,
o_proj, no biases.

Kernels follow what serving engines (vLLM, SGLang, FlashMLA) run:
- decode in the weight-absorbed form: q_nope is mapped into the latent per head (W_UK), attention
  is MQA over the cache (one KV head of kv_lora_rank + qk_rope_head_dim, values = the latent's
  first kv_lora_rank), and the output latent is mapped to v_head_dim per head (W_UV);
- prefill in the expanded form: kv_b_proj decompresses K/V for the chunk and its cached past, then
  ordinary attention with QK head dim nope + rope and V head dim v_head_dim.
The low-rank q/kv down-projections run as one GEMM (vLLM's fused_qkv_a_proj) and are replicated
under tensor parallelism; the per-head projections are split.
"""

from __future__ import annotations

from typing import Literal

from perfsim.layers.base import DECODE, PREFILL, TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Elementwise
from perfsim.ops.mla_attention import MLAAttention
from perfsim.spec.base import PosInt, _Strict
from perfsim.units import DTYPE_BYTES


class MLASpec(_Strict):
    """Multi-head latent attention; `q_lora_rank` None means a full-rank q_proj (DeepSeek-V2-Lite)."""

    type: Literal["mla"] = "mla"
    num_heads: PosInt
    q_lora_rank: PosInt | None = None
    kv_lora_rank: PosInt
    qk_nope_head_dim: PosInt
    qk_rope_head_dim: PosInt
    v_head_dim: PosInt
    window: None = None  # MLA models use full attention

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    @property
    def latent_dim(self) -> int:
        """Cached values per token: the KV latent and the shared RoPE key."""
        return self.kv_lora_rank + self.qk_rope_head_dim


@register_layer
class MLAKind(LayerKind):
    spec = MLASpec
    mixes_tokens = True
    softmax_attention = True

    def params(self, spec: MLASpec, hidden: int) -> ParamCount:
        h, q_out = spec.num_heads, spec.num_heads * spec.qk_head_dim
        if spec.q_lora_rank is None:
            q = hidden * q_out  # q_proj
        else:  # q_a_proj, q_a_layernorm, q_b_proj
            q = hidden * spec.q_lora_rank + spec.q_lora_rank + spec.q_lora_rank * q_out
        kv = hidden * spec.latent_dim + spec.kv_lora_rank  # kv_a_proj_with_mqa, kv_a_layernorm
        kv += spec.kv_lora_rank * h * (spec.qk_nope_head_dim + spec.v_head_dim)  # kv_b_proj
        return dense(q + kv + h * spec.v_head_dim * hidden)  # + o_proj

    def kv_cache(self, spec: MLASpec, kv_bytes: float, tp: int) -> tuple[float, int | None]:
        return spec.latent_dim * kv_bytes, None  # one latent, replicated under TP

    def activation_width(self, spec: MLASpec, hidden: int) -> float:
        # expanded q, k, v and the attention output, plus the latents they come from
        return (spec.num_heads * 2 * (spec.qk_head_dim + spec.v_head_dim)
                + (spec.q_lora_rank or 0) + spec.latent_dim)

    def kernels(self, spec: MLASpec, b: StepBuilder) -> list[Kernel]:
        s, t, ab = b.s, b.t, b.ab
        hq = b.split(spec.num_heads, "num_heads")
        nope, rope = spec.qk_nope_head_dim, spec.qk_rope_head_dim
        lat, rank = spec.latent_dim, spec.kv_lora_rank
        qk, v, q_lora = spec.qk_head_dim, spec.v_head_dim, spec.q_lora_rank
        kvb = DTYPE_BYTES[b.m.dtypes.kv_cache]
        normed = (q_lora or 0) + rank  # q_a_layernorm and kv_a_layernorm
        norm = Kernel("latent_norm", Elementwise("norm", t * normed * ab, t * normed * ab), TOKEN)
        if q_lora is None:
            proj = [Kernel("q_proj", b.gemm(t, hq * qk, b.h), TOKEN),
                    Kernel("kv_a_proj", b.gemm(t, lat, b.h), TOKEN), norm]
        else:
            proj = [Kernel("qkv_a_proj", b.gemm(t, q_lora + lat, b.h), TOKEN), norm,
                    Kernel("q_b_proj", b.gemm(t, hq * qk, q_lora), TOKEN)]
        decode_tokens = s.decode_seqs * s.decode_tokens
        # K/V decompressed for prefill are GEMM outputs: bf16 (or wider) whatever the activations
        expanded = b.a_stream
        dims = (rank, rope, nope, v)  # MLAAttention's latent and head widths, in field order
        return [
            b.pre_norm(),
            *proj,
            Kernel("rope_kv_write", Elementwise("rope", t * (hq * rope + lat) * ab,
                                                t * hq * rope * ab + t * lat * kvb), TOKEN),
            Kernel("q_absorb", b.gemm(decode_tokens, rank, nope, hq), DECODE),
            Kernel("attn_decode", MLAAttention("decode", s.decode_seqs, s.decode_tokens,
                                               s.decode_context + s.decode_tokens, hq, True, *dims,
                                               dtype=b.a, kv_dtype=b.m.dtypes.kv_cache), DECODE),
            Kernel("v_absorb", b.gemm(decode_tokens, v, rank, hq), DECODE),
            Kernel("kv_b_proj", b.gemm(s.prefill_seqs * (s.prefill_past + s.prefill_tokens),
                                       hq * (nope + v), rank), PREFILL),
            Kernel("attn_prefill", MLAAttention("prefill", s.prefill_seqs, s.prefill_tokens,
                                                s.prefill_past + s.prefill_tokens, hq, False, *dims,
                                                dtype=b.a, kv_dtype=expanded, causal=s.prefill_causal),
                   PREFILL),
            Kernel("o_proj", b.gemm(t, b.h, hq * v), TOKEN),
            *b.allreduce(),
        ]

    def loss_kind(self, spec: MLASpec) -> str:
        # Softmax attention over full context; DeepSeek-V2 (section 2.1) reports MLA at or above MHA.
        return "attention"
