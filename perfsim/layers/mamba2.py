"""Mamba2 (SSD) mixer: in_proj -> [z | x B C | dt], short conv, chunked scan, gated norm, out_proj."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from perfsim.layers.base import TOKEN, Kernel, LayerKind, ParamCount, dense, register_layer
from perfsim.layers.builder import StepBuilder
from perfsim.ops import Elementwise, Mamba2
from perfsim.spec.base import PosInt, _Strict


class Mamba2Spec(_Strict):
    """Mamba2 (SSD) mixer; d_inner = num_heads * head_dim."""

    type: Literal["mamba2"] = "mamba2"
    num_heads: PosInt
    head_dim: PosInt
    state_size: PosInt
    n_groups: PosInt = 1
    conv_kernel: PosInt = 4
    chunk_size: PosInt = 256
    conv_bias: bool = True
    proj_bias: bool = False

    @model_validator(mode="after")
    def _groups_divide(self) -> Mamba2Spec:
        if self.num_heads % self.n_groups:
            raise ValueError(
                f"num_heads ({self.num_heads}) must be a multiple of n_groups ({self.n_groups})"
            )
        return self


@register_layer
class Mamba2Kind(LayerKind):
    spec = Mamba2Spec
    mixes_tokens = True

    def params(self, spec: Mamba2Spec, hidden: int) -> ParamCount:
        d_inner = spec.num_heads * spec.head_dim
        bc = 2 * spec.n_groups * spec.state_size
        in_proj = hidden * (2 * d_inner + bc + spec.num_heads)
        conv = (d_inner + bc) * spec.conv_kernel + ((d_inner + bc) if spec.conv_bias else 0)
        per_head = 3 * spec.num_heads  # dt_bias, A_log, D
        n = in_proj + conv + per_head + d_inner + d_inner * hidden  # + gated norm + out_proj
        if spec.proj_bias:
            n += 2 * d_inner + bc + spec.num_heads + hidden
        return dense(n)

    def state_bytes_per_seq(self, spec: Mamba2Spec, state_bytes: float, act_bytes: float, tp: int) -> float:
        heads = spec.num_heads // tp
        conv_ch = heads * spec.head_dim + 2 * max(spec.n_groups // tp, 1) * spec.state_size
        return (heads * spec.head_dim * spec.state_size * state_bytes
                + conv_ch * (spec.conv_kernel - 1) * act_bytes)

    def activation_width(self, spec: Mamba2Spec, hidden: int) -> float:
        return 2 * (2 * spec.num_heads * spec.head_dim + 2 * spec.n_groups * spec.state_size + spec.num_heads)

    def kernels(self, spec: Mamba2Spec, b: StepBuilder) -> list[Kernel]:
        heads = b.split(spec.num_heads, "mamba num_heads")
        groups = max(spec.n_groups // b.tp, 1)
        d_inner, bc = heads * spec.head_dim, 2 * groups * spec.state_size
        state = b.m.dtypes.state

        def make(phase, batch, length):
            return Mamba2(phase, batch, length, heads, spec.head_dim, spec.state_size, groups,
                          spec.chunk_size, b.a, state)

        return [
            b.pre_norm(),
            Kernel("in_proj", b.gemm(b.t, 2 * d_inner + bc + heads, b.h), TOKEN),
            *b.convs(d_inner + bc, spec.conv_kernel),
            *b.scans(make),
            Kernel("gated_norm", Elementwise("gated_norm", 2 * b.t * d_inner * b.ab,
                                             b.t * d_inner * b.ab), TOKEN),
            Kernel("out_proj", b.gemm(b.t, b.h, d_inner), TOKEN),
            *b.allreduce(),
        ]

    def loss_kind(self, spec: Mamba2Spec) -> str:
        return "mamba2"
