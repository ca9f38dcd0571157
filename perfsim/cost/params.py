"""Parameter counts per operator, total and active (MoE touches only top-k experts per token)."""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.spec.model import (
    AttentionSpec,
    LinearAttentionSpec,
    LinearSpec,
    Mamba2Spec,
    MLPSpec,
    ModelSpec,
    MoESpec,
    OperatorSpec,
)

#: fla's default low-rank width of the GLA forget-gate projection.
GLA_GATE_RANK = 16


@dataclass(frozen=True, slots=True)
class ParamCount:
    total: float
    active: float

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(self.total + other.total, self.active + other.active)


def _dense(n: float) -> ParamCount:
    return ParamCount(n, n)


def mlp_params(hidden: int, inner: int, gated: bool, bias: bool = False) -> float:
    mats = (3 if gated else 2) * hidden * inner
    return mats + ((2 if gated else 1) * inner + hidden if bias else 0)


def operator_params(op: OperatorSpec, hidden: int, norm_params: int) -> ParamCount:
    """Parameters of one sublayer including its pre-norm."""
    norm = _dense(norm_params)
    if isinstance(op, AttentionSpec):
        q, kv = op.num_heads * op.head_dim, op.num_kv_heads * op.head_dim
        n = hidden * (q + 2 * kv) + q * hidden
        n += (q + 2 * kv) if op.qkv_bias else 0
        n += hidden if op.o_bias else 0
        n += 2 * op.head_dim if op.qk_norm else 0
        n += op.num_heads if op.sinks else 0
        return norm + _dense(n)
    if isinstance(op, Mamba2Spec):
        d_inner = op.num_heads * op.head_dim
        bc = 2 * op.n_groups * op.state_size
        in_proj = hidden * (2 * d_inner + bc + op.num_heads)
        conv = (d_inner + bc) * op.conv_kernel + ((d_inner + bc) if op.conv_bias else 0)
        per_head = 3 * op.num_heads  # dt_bias, A_log, D
        n = in_proj + conv + per_head + d_inner + d_inner * hidden  # + gated norm + out_proj
        if op.proj_bias:
            n += 2 * d_inner + bc + op.num_heads + hidden
        return norm + _dense(n)
    if isinstance(op, LinearAttentionSpec):
        qk, v = op.num_heads * op.head_k_dim, op.num_heads * op.head_v_dim
        n = hidden * (2 * qk + v) + v * hidden + op.head_v_dim  # q,k,v,o projections + o_norm
        n += (2 * qk + v) * op.conv_kernel
        if op.variant == "deltanet":
            n += hidden * op.num_heads  # beta
        elif op.variant == "gated_deltanet":
            n += 2 * hidden * op.num_heads + 2 * op.num_heads  # beta, alpha (a) proj, A_log, dt_bias
        else:  # gla: low-rank forget gate
            n += hidden * GLA_GATE_RANK + GLA_GATE_RANK * qk + qk
        n += hidden * v if op.output_gate else 0
        return norm + _dense(n)
    if isinstance(op, LinearSpec):
        return norm + _dense(hidden * hidden + (hidden if op.bias else 0))
    if isinstance(op, MLPSpec):
        return norm + _dense(mlp_params(hidden, op.intermediate_size, op.gated, op.bias))
    if isinstance(op, MoESpec):
        width = op.latent_dim or hidden
        expert = mlp_params(width, op.expert_intermediate_size, op.gated, op.expert_bias)
        router = hidden * op.num_experts + (op.num_experts if op.router_bias else 0)
        latent = 2 * hidden * op.latent_dim if op.latent_dim else 0
        shared = op.num_shared_experts * mlp_params(hidden, op.shared_intermediate_size, op.gated)
        always = router + latent + shared
        return norm + ParamCount(always + op.num_experts * expert, always + op.top_k * expert)
    raise TypeError(f"unknown operator spec {type(op).__name__}")


def model_params(model: ModelSpec) -> ParamCount:
    """Total and per-token active parameters, embeddings and lm_head included."""
    norm_params = model.hidden_size * (2 if model.norm == "layernorm" else 1)
    total = ParamCount(0.0, 0.0)
    for op in model.sublayers:
        total = total + operator_params(op, model.hidden_size, norm_params)
    embed = (model.vocab_size + model.extra_embedding_rows) * model.hidden_size
    head = 0 if model.tie_embeddings else model.vocab_size * model.hidden_size
    return total + _dense(embed + head + norm_params)
