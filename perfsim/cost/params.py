"""Parameter counts per operator, total and active (MoE touches only top-k experts per token).

Each layer kind counts its own weights (perfsim.layers); this module adds pre-norms, embeddings
and the output head.
"""

from __future__ import annotations

from perfsim.layers import ParamCount, layer_kind
from perfsim.layers.base import dense
from perfsim.layers.linear_attention import GLA_GATE_RANK
from perfsim.layers.mlp import mlp_params
from perfsim.spec.model import ModelSpec, OperatorSpec

__all__ = ["GLA_GATE_RANK", "ParamCount", "mlp_params", "model_params", "operator_params"]


def operator_params(op: OperatorSpec, hidden: int, norm_params: int) -> ParamCount:
    """Parameters of one sublayer including its pre-norm."""
    return dense(norm_params) + layer_kind(op).params(op, hidden)


def model_params(model: ModelSpec) -> ParamCount:
    """Total and per-token active parameters, embeddings and lm_head included."""
    norm_params = model.hidden_size * (2 if model.norm == "layernorm" else 1)
    total = ParamCount(0.0, 0.0)
    for op in model.sublayers:
        total = total + operator_params(op, model.hidden_size, norm_params)
    embed = (model.vocab_size + model.extra_embedding_rows) * model.hidden_size
    head = 0 if model.tie_embeddings else model.vocab_size * model.hidden_size
    return total + dense(embed + head + norm_params)
