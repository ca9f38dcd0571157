"""Gated cross-attention (mllama image layers): parameters by hand, image K/V as per-sequence state
(no per-token KV cache), kernels and their roles, and a decode step that reads the image tokens."""

import pytest

import perfsim
from perfsim.layers import DECODE, PREFILL, TOKEN, layer_kind
from perfsim.layers.cross_attention import MLLAMA_IMAGE_TOKENS, CrossAttentionSpec
from perfsim.spec.model import ModelSpec

SPEC = CrossAttentionSpec(num_heads=32, num_kv_heads=8, head_dim=128)


def _model(xattn):
    return ModelSpec.model_validate(
        {
            "id": "x",
            "display_name": "x",
            "source": {"url": "test"},
            "hidden_size": 4096,
            "vocab_size": 1000,
            "max_context_len": 8192,
            "operators": {
                "attn": {"type": "attention", "num_heads": 32, "num_kv_heads": 8, "head_dim": 128},
                "xattn": xattn,
                "mlp": {"type": "mlp", "intermediate_size": 14336},
            },
            "blocks": [{"repeat": 1, "ops": ["attn", "mlp"]}, {"repeat": 1, "ops": ["xattn", "mlp"]}],
        }
    )


def test_parameters_by_hand():
    """q, k, v, o of Llama-3.2-Vision's cross-attention + q/k norms + two gate scalars."""
    kind = layer_kind(SPEC)
    expected = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 2 * 128 + 2
    assert kind.params(SPEC, 4096).total == expected


def test_image_kv_is_per_sequence_state_not_per_token_cache():
    kind = layer_kind(SPEC)
    assert kind.kv_cache(SPEC, 2.0, 1) == (0.0, None)
    assert kind.state_bytes_per_seq(SPEC, 4.0, 2.0, 1) == 2 * 8 * 128 * MLLAMA_IMAGE_TOKENS * 2.0
    assert kind.state_bytes_per_seq(SPEC, 4.0, 2.0, 8) == kind.state_bytes_per_seq(SPEC, 4.0, 2.0, 1) / 8


def test_kernels_and_roles():
    step = perfsim.decode_step(_model(SPEC.model_dump()), "h100-sxm", 4, 1024)
    rows = step.breakdown[step.breakdown["kernel"].isin(["q_proj", "xattn_decode", "image_kv_proj"])]
    assert {"q_proj", "xattn_decode"} <= set(rows["kernel"])
    roles = {k.name: k.role for k in layer_kind(SPEC).kernels(SPEC, _builder(SPEC))}
    assert roles["q_proj"] == TOKEN and roles["xattn_decode"] == DECODE
    assert roles["image_kv_proj"] == PREFILL and roles["xattn_prefill"] == PREFILL


def _builder(spec):
    from perfsim.cost.graph import StepBatch
    from perfsim.layers import StepBuilder
    from perfsim.spec.deployment import Execution

    return StepBuilder(_model(spec.model_dump()), StepBatch(decode_seqs=1, decode_context=128), Execution())


def test_more_image_tokens_make_decode_slower_and_use_more_memory():
    small = _model({**SPEC.model_dump(), "num_context_tokens": 1601})
    big = _model({**SPEC.model_dump(), "num_context_tokens": 4 * 1601})
    t_small = perfsim.decode_step(small, "jetson-agx-orin-64gb", 8, 512).latency_s
    t_big = perfsim.decode_step(big, "jetson-agx-orin-64gb", 8, 512).latency_s
    assert t_big > t_small
    m_small, m_big = (perfsim.memory(m, "h100-sxm", 8, 512) for m in (small, big))
    assert m_big.state_bytes == pytest.approx(4 * m_small.state_bytes)
    assert m_big.kv_cache_bytes == m_small.kv_cache_bytes  # the image K/V are not per-token cache


def test_heads_must_group():
    with pytest.raises(ValueError, match="multiple of num_kv_heads"):
        CrossAttentionSpec(num_heads=6, num_kv_heads=4, head_dim=8)
