"""Chunked linear attention with a matrix state per head (DeltaNet, Gated DeltaNet, GLA; fla layouts)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perfsim.layers.base import TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Elementwise, LinearAttention
from perfsim.spec.base import PosInt, _Strict

#: fla's default low-rank width of the GLA forget-gate projection.
GLA_GATE_RANK = 16


class LinearAttentionSpec(_Strict):
    """Chunked linear attention with a matrix state per head (DeltaNet, Gated DeltaNet, GLA)."""

    type: Literal["linear_attention"] = "linear_attention"
    variant: Literal["deltanet", "gated_deltanet", "gla"]
    num_heads: PosInt
    head_k_dim: PosInt
    head_v_dim: PosInt
    conv_kernel: int = Field(default=4, ge=0)  # short depthwise conv on q/k/v; 0 = none
    chunk_size: PosInt = 64
    output_gate: bool = True


@register_layer
class LinearAttentionKind(LayerKind):
    spec = LinearAttentionSpec
    mixes_tokens = True

    def params(self, spec: LinearAttentionSpec, hidden: int) -> ParamCount:
        qk, v = spec.num_heads * spec.head_k_dim, spec.num_heads * spec.head_v_dim
        n = hidden * (2 * qk + v) + v * hidden + spec.head_v_dim  # q,k,v,o projections + o_norm
        n += (2 * qk + v) * spec.conv_kernel
        if spec.variant == "deltanet":
            n += hidden * spec.num_heads  # beta
        elif spec.variant == "gated_deltanet":
            n += 2 * hidden * spec.num_heads + 2 * spec.num_heads  # beta, alpha (a) proj, A_log, dt_bias
        else:  # gla: low-rank forget gate
            n += hidden * GLA_GATE_RANK + GLA_GATE_RANK * qk + qk
        n += hidden * v if spec.output_gate else 0
        return dense(n)

    def state_bytes_per_seq(self, spec: LinearAttentionSpec, state_bytes: float, act_bytes: float,
                            tp: int) -> float:
        heads = spec.num_heads // tp
        conv_ch = heads * (2 * spec.head_k_dim + spec.head_v_dim)
        return (heads * spec.head_k_dim * spec.head_v_dim * state_bytes
                + conv_ch * max(spec.conv_kernel - 1, 0) * act_bytes)

    def activation_width(self, spec: LinearAttentionSpec, hidden: int) -> float:
        return 2 * spec.num_heads * (2 * spec.head_k_dim + 2 * spec.head_v_dim)

    def kernels(self, spec: LinearAttentionSpec, b: StepBuilder) -> list[Kernel]:
        heads = b.split(spec.num_heads, "linear-attention num_heads")
        qk, v = heads * spec.head_k_dim, heads * spec.head_v_dim
        gates = {"deltanet": heads, "gated_deltanet": 2 * heads, "gla": qk}[spec.variant]
        proj = 2 * qk + v + gates + (v if spec.output_gate else 0)
        state = b.m.dtypes.state

        def make(phase, batch, length):
            return LinearAttention(phase, batch, length, heads, spec.head_k_dim, spec.head_v_dim,
                                   spec.variant, spec.chunk_size, b.a, state)

        out = [b.pre_norm(), Kernel("in_proj", b.gemm(b.t, proj, b.h), TOKEN)]
        if spec.conv_kernel:
            out += b.convs(2 * qk + v, spec.conv_kernel)
        return out + [
            *b.scans(make),
            Kernel("out_norm_gate", Elementwise("gated_norm", 2 * b.t * v * b.ab, b.t * v * b.ab), TOKEN),
            Kernel("o_proj", b.gemm(b.t, b.h, v), TOKEN),
            *b.allreduce(),
        ]

    def loss_kind(self, spec: LinearAttentionSpec) -> str:
        return spec.variant
