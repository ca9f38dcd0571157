"""Model + one forward pass's batch composition -> the kernels it launches, per sublayer kind.

A step mixes decode sequences (q new tokens each against a cached context) and prefill chunks
(`prefill_tokens` new tokens after `prefill_past` cached ones). Identical sublayers launch
identical kernels, so each operator kind is priced once and carries its layer count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.ops import AllReduce, Attention, Elementwise, Gemm, LinearAttention, Mamba2, MoE, Op
from perfsim.spec.model import (
    AttentionSpec,
    LinearAttentionSpec,
    LinearSpec,
    Mamba2Spec,
    MLPSpec,
    ModelSpec,
    MoESpec,
)
from perfsim.units import DTYPE_BYTES


@dataclass(frozen=True)
class StepBatch:
    """Shapes of one forward pass; every field may be a numpy array (vectorised sweeps)."""

    decode_seqs: float | np.ndarray = 0
    decode_context: float | np.ndarray = 0  # cached tokens before this step
    decode_tokens: float | np.ndarray = 1  # new tokens per decode sequence (k+1 when verifying)
    prefill_seqs: float | np.ndarray = 0
    prefill_tokens: float | np.ndarray = 0
    prefill_past: float | np.ndarray = 0
    prefill_causal: bool = True  # False: bidirectional (full masked-diffusion recompute)

    @property
    def tokens(self):
        return self.decode_seqs * self.decode_tokens + self.prefill_seqs * self.prefill_tokens

    @property
    def logit_rows(self):
        """Engines compute logits only where a token is sampled: every decode token, last prefill."""
        return self.decode_seqs * self.decode_tokens + self.prefill_seqs


@dataclass(frozen=True)
class Execution:
    """How the model is run: tensor parallelism and launch mode; not part of model or hardware."""

    tensor_parallel: int = 1
    cuda_graphs: bool = True
    #: Engine work per step outside kernels (scheduling, sampling sync); engine-specific.
    host_overhead_per_step_s: float = 0.0
    #: Host time to enqueue one kernel in eager mode; None uses the hardware profile's raw launch
    #: cost. Python-heavy frameworks (plain HF eager) spend far more per kernel than the launch.
    host_per_kernel_s: float | None = None

    def __post_init__(self) -> None:
        if self.tensor_parallel < 1:
            raise PerfsimInputError(f"tensor_parallel must be >= 1 (got {self.tensor_parallel}).")
        if self.host_overhead_per_step_s < 0:
            raise PerfsimInputError("host_overhead_per_step_s must be >= 0.")
        if self.host_per_kernel_s is not None and self.host_per_kernel_s < 0:
            raise PerfsimInputError("host_per_kernel_s must be >= 0.")


@dataclass(frozen=True)
class KernelGroup:
    """Kernels of one sublayer kind (e.g. 'attn'), repeated `count` times per forward."""

    sublayer: str
    count: int
    kernels: list[tuple[str, Op]] = field(default_factory=list)


def _split(n: int, tp: int, what: str) -> int:
    if n % tp:
        raise PerfsimInputError(f"tensor_parallel {tp} must divide {what} ({n}).")
    return n // tp


class _Builder:
    def __init__(self, model: ModelSpec, step: StepBatch, execution: Execution):
        self.m, self.s, self.tp = model, step, execution.tensor_parallel
        self.a = model.dtypes.activations
        # Quantised activations (W8A8 FP8, FP4) exist only as GEMM inputs: the norm before a GEMM
        # writes them, the GEMM accumulates and writes bf16, and the residual stream, elementwise
        # kernels and TP all-reduces stay bf16 (TensorRT-LLM / ModelOpt FP8 recipe).
        self.ab = max(DTYPE_BYTES[self.a], DTYPE_BYTES["bf16"])
        self.wd = model.dtypes.weights
        self.h = model.hidden_size
        self.t = step.tokens

    def gemm(self, m, n, k) -> Gemm:
        return Gemm(m, n, k, self.a, self.wd)

    def norm(self, width=None) -> Elementwise:
        # fused residual-add + RMSNorm: read x and residual, write both
        width = width or self.h
        return Elementwise("add_norm", 2 * self.t * width * self.ab, 2 * self.t * width * self.ab)

    def allreduce(self) -> list[tuple[str, Op]]:
        if self.tp == 1:
            return []
        return [("allreduce", AllReduce(self.t * self.h * self.ab, self.tp))]

    def attention(self, spec: AttentionSpec) -> list[tuple[str, Op]]:
        s, tp = self.s, self.tp
        hq = _split(spec.num_heads, tp, "num_heads")
        hkv = max(spec.num_kv_heads // tp, 1)  # KV heads are replicated when tp > num_kv_heads
        d, kvb = spec.head_dim, DTYPE_BYTES[self.m.dtypes.kv_cache]
        qkv_width = (hq + 2 * hkv) * d
        new_kv = self.t * 2 * hkv * d * kvb
        common = dict(num_heads=hq, num_kv_heads=hkv, head_dim=d, window=spec.window,
                      dtype=self.a, kv_dtype=self.m.dtypes.kv_cache)
        return [
            ("norm", self.norm()),
            ("qkv_proj", self.gemm(self.t, qkv_width, self.h)),
            ("rope_kv_write", Elementwise("rope", self.t * qkv_width * self.ab,
                                          self.t * (hq + hkv) * d * self.ab + new_kv)),
            ("attn_decode", Attention("decode", s.decode_seqs, s.decode_tokens,
                                      s.decode_context + s.decode_tokens, **common)),
            ("attn_prefill", Attention("prefill", s.prefill_seqs, s.prefill_tokens,
                                       s.prefill_past + s.prefill_tokens, causal=s.prefill_causal,
                                       **common)),
            ("o_proj", self.gemm(self.t, self.h, hq * d)),
            *self.allreduce(),
        ]

    def mlp(self, spec: MLPSpec) -> list[tuple[str, Op]]:
        f = _split(spec.intermediate_size, self.tp, "intermediate_size")
        up = f * (2 if spec.gated else 1)
        return [
            ("norm", self.norm()),
            ("up_proj", self.gemm(self.t, up, self.h)),
            ("activation", Elementwise("act", self.t * up * self.ab, self.t * f * self.ab)),
            ("down_proj", self.gemm(self.t, self.h, f)),
            *self.allreduce(),
        ]

    def linear(self, spec: LinearSpec) -> list[tuple[str, Op]]:
        # column-parallel under TP; gathering the output costs about what an all-reduce does
        out = _split(self.h, self.tp, "hidden_size")
        return [("norm", self.norm()), ("linear", self.gemm(self.t, out, self.h)), *self.allreduce()]

    def moe(self, spec: MoESpec) -> list[tuple[str, Op]]:
        width = spec.latent_dim or self.h
        f = _split(spec.expert_intermediate_size, self.tp, "expert_intermediate_size")
        ops: list[tuple[str, Op]] = [("norm", self.norm())]
        if spec.latent_dim:
            ops.append(("latent_down", self.gemm(self.t, spec.latent_dim, self.h)))
        ops.append(("experts", MoE(self.t, width, f, spec.num_experts, spec.top_k, spec.gated,
                                   self.a, self.wd)))
        if spec.latent_dim:
            ops.append(("latent_up", self.gemm(self.t, self.h, spec.latent_dim)))
        if spec.num_shared_experts:
            fs = _split(spec.num_shared_experts * spec.shared_intermediate_size, self.tp,
                        "shared expert width")
            up = fs * (2 if spec.gated else 1)
            ops += [("shared_up", self.gemm(self.t, up, self.h)),
                    ("shared_act", Elementwise("act", self.t * up * self.ab, self.t * fs * self.ab)),
                    ("shared_down", self.gemm(self.t, self.h, fs))]
        return ops + self.allreduce()

    def _conv(self, channels: int, kernel: int) -> Elementwise:
        s, cb = self.s, self.ab
        state = (s.decode_seqs + s.prefill_seqs) * channels * max(kernel - 1, 0) * cb
        return Elementwise("conv1d", self.t * channels * cb + state, self.t * channels * cb + state,
                           flops=2.0 * self.t * channels * kernel)

    def _scan_ops(self, make) -> list[tuple[str, Op]]:
        s = self.s
        return [("scan_decode", make("decode", s.decode_seqs, s.decode_tokens)),
                ("scan_prefill", make("prefill", s.prefill_seqs, s.prefill_tokens))]

    def mamba2(self, spec: Mamba2Spec) -> list[tuple[str, Op]]:
        heads = _split(spec.num_heads, self.tp, "mamba num_heads")
        groups = max(spec.n_groups // self.tp, 1)
        d_inner, bc = heads * spec.head_dim, 2 * groups * spec.state_size
        state = self.m.dtypes.state

        def make(phase, batch, length):
            return Mamba2(phase, batch, length, heads, spec.head_dim, spec.state_size, groups,
                          spec.chunk_size, self.a, state)

        return [
            ("norm", self.norm()),
            ("in_proj", self.gemm(self.t, 2 * d_inner + bc + heads, self.h)),
            ("conv1d", self._conv(d_inner + bc, spec.conv_kernel)),
            *self._scan_ops(make),
            ("gated_norm", Elementwise("gated_norm", 2 * self.t * d_inner * self.ab,
                                       self.t * d_inner * self.ab)),
            ("out_proj", self.gemm(self.t, self.h, d_inner)),
            *self.allreduce(),
        ]

    def linear_attention(self, spec: LinearAttentionSpec) -> list[tuple[str, Op]]:
        heads = _split(spec.num_heads, self.tp, "linear-attention num_heads")
        qk, v = heads * spec.head_k_dim, heads * spec.head_v_dim
        gates = {"deltanet": heads, "gated_deltanet": 2 * heads, "gla": qk}[spec.variant]
        proj = 2 * qk + v + gates + (v if spec.output_gate else 0)
        state = self.m.dtypes.state

        def make(phase, batch, length):
            return LinearAttention(phase, batch, length, heads, spec.head_k_dim, spec.head_v_dim,
                                   spec.variant, spec.chunk_size, self.a, state)

        ops: list[tuple[str, Op]] = [("norm", self.norm()), ("in_proj", self.gemm(self.t, proj, self.h))]
        if spec.conv_kernel:
            ops.append(("conv1d", self._conv(2 * qk + v, spec.conv_kernel)))
        return ops + [
            *self._scan_ops(make),
            ("out_norm_gate", Elementwise("gated_norm", 2 * self.t * v * self.ab, self.t * v * self.ab)),
            ("o_proj", self.gemm(self.t, self.h, v)),
            *self.allreduce(),
        ]

    def head_and_tail(self) -> tuple[list[tuple[str, Op]], list[tuple[str, Op]]]:
        vocab = -(-self.m.vocab_size // self.tp)  # vocab-parallel lm_head pads the last shard
        rows = self.s.logit_rows
        embed = [("embedding", Elementwise("gather", self.t * self.h * self.ab, self.t * self.h * self.ab))]
        tail = [
            ("final_norm", self.norm()),
            ("lm_head", self.gemm(rows, vocab, self.h)),
            ("sampling", Elementwise("sample", rows * vocab * 4.0, rows * 8.0)),
        ]
        return embed, tail


_BUILDERS = {
    "attention": _Builder.attention,
    "mlp": _Builder.mlp,
    "moe": _Builder.moe,
    "mamba2": _Builder.mamba2,
    "linear_attention": _Builder.linear_attention,
    "linear": _Builder.linear,
}


def build_step(model: ModelSpec, step: StepBatch, execution: Execution) -> list[KernelGroup]:
    """Kernel groups in execution order of first appearance: embedding, sublayer kinds, head."""
    builder = _Builder(model, step, execution)
    embed, tail = builder.head_and_tail()
    groups = [KernelGroup("embedding", 1, embed)]
    counts: dict[str, int] = {}
    for name in model.sublayer_names:
        counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        spec = model.operators[name]
        groups.append(KernelGroup(name, count, _BUILDERS[spec.type](builder, spec)))
    groups.append(KernelGroup("lm_head", 1, tail))
    return groups


def sublayer_sequence(model: ModelSpec) -> list[str]:
    """Sublayer kinds in true execution order (for launch-queue simulation)."""
    return ["embedding", *model.sublayer_names, "lm_head"]
