"""HF import of gemma2, gemma3, phi3, gptj and mllama (issue 19 item 4): each reproduces the
published parameter count within 1.5 % and keeps the family's layer layout."""

import pytest

import perfsim
from perfsim.cost.vision import vision_params
from perfsim.errors import PerfsimInputError
from perfsim.io.hf_import import model_from_hf_config

#: config.json fields as published on the Hugging Face Hub (google/gemma-2-2b, google/gemma-2-9b,
#: google/gemma-3-1b-it, google/gemma-3-4b-it, microsoft/Phi-3-mini-4k-instruct,
#: microsoft/Phi-3-medium-4k-instruct, EleutherAI/gpt-j-6b, meta-llama/Llama-3.2-11B-Vision), and
#: each model card's / safetensors index's parameter count.
CONFIGS = {
    "gemma-2-2b": (
        {
            "model_type": "gemma2",
            "hidden_size": 2304,
            "num_hidden_layers": 26,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 256,
            "intermediate_size": 9216,
            "vocab_size": 256000,
            "sliding_window": 4096,
            "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0,
            "max_position_embeddings": 8192,
        },
        2614341888,
    ),
    "gemma-2-9b": (
        {
            "model_type": "gemma2",
            "hidden_size": 3584,
            "num_hidden_layers": 42,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 256,
            "intermediate_size": 14336,
            "vocab_size": 256000,
            "sliding_window": 4096,
            "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0,
            "max_position_embeddings": 8192,
        },
        9241705984,
    ),
    "gemma-3-1b": (
        {
            "model_type": "gemma3_text",
            "hidden_size": 1152,
            "num_hidden_layers": 26,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "intermediate_size": 6912,
            "vocab_size": 262144,
            "sliding_window": 512,
            "sliding_window_pattern": 6,
            "max_position_embeddings": 32768,
        },
        999885952,
    ),
    "gemma-3-4b": (
        {
            "model_type": "gemma3",
            "text_config": {
                "hidden_size": 2560,
                "num_hidden_layers": 34,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "intermediate_size": 10240,
                "vocab_size": 262208,
                "sliding_window": 1024,
                "sliding_window_pattern": 6,
                "max_position_embeddings": 131072,
            },
            "vision_config": {
                "hidden_size": 1152,
                "image_size": 896,
                "intermediate_size": 4304,
                "num_attention_heads": 16,
                "num_hidden_layers": 27,
                "patch_size": 14,
            },
            "mm_tokens_per_image": 256,
        },
        4300079472,
    ),
    "phi-3-mini": (
        {
            "model_type": "phi3",
            "hidden_size": 3072,
            "intermediate_size": 8192,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "vocab_size": 32064,
            "max_position_embeddings": 4096,
            "sliding_window": 2047,
            "tie_word_embeddings": False,
        },
        3821079552,
    ),
    "phi-3-medium": (
        {
            "model_type": "phi3",
            "hidden_size": 5120,
            "intermediate_size": 17920,
            "num_hidden_layers": 40,
            "num_attention_heads": 40,
            "num_key_value_heads": 10,
            "vocab_size": 32064,
            "max_position_embeddings": 4096,
            "sliding_window": 2047,
            "tie_word_embeddings": False,
        },
        13960238080,
    ),
    "gpt-j-6b": (
        {
            "model_type": "gptj",
            "n_embd": 4096,
            "n_layer": 28,
            "n_head": 16,
            "n_positions": 2048,
            "rotary_dim": 64,
            "vocab_size": 50400,
            "n_inner": None,
            "tie_word_embeddings": False,
        },
        6053381344,
    ),
    "llama-3.2-11b-vision": (
        {
            "model_type": "mllama",
            "text_config": {
                "hidden_size": 4096,
                "intermediate_size": 14336,
                "num_hidden_layers": 40,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
                "vocab_size": 128256,
                "cross_attention_layers": [3, 8, 13, 18, 23, 28, 33, 38],
                "max_position_embeddings": 131072,
            },
            "vision_config": {
                "hidden_size": 1280,
                "image_size": 560,
                "patch_size": 14,
                "num_hidden_layers": 32,
                "num_global_layers": 8,
                "attention_heads": 16,
                "intermediate_size": 5120,
                "max_num_tiles": 4,
                "vision_output_dim": 7680,
            },
        },
        10670220835,
    ),
}


def _total(model):
    n = perfsim.model_params(model).total
    return n + (vision_params(model.vision, model.hidden_size) if model.vision else 0.0)


@pytest.mark.parametrize("name", CONFIGS)
def test_published_parameter_count_within_1p5_percent(name):
    cfg, published = CONFIGS[name]
    assert _total(model_from_hf_config(cfg, name)) == pytest.approx(published, rel=0.015)


def _mixers(model):
    return [model.operators[b.ops[0]] for b in model.blocks for _ in range(b.repeat)]


def test_gemma2_alternates_local_and_global_layers_and_notes_soft_capping():
    model = model_from_hf_config(CONFIGS["gemma-2-2b"][0], "g2")
    windows = [op.window for op in _mixers(model)]
    assert windows[:4] == [4096, None, 4096, None] and len(windows) == 26
    assert model.tie_embeddings and "attn_logit_softcapping 50.0" in model.source.note


def test_gemma3_is_five_local_layers_then_one_global():
    model = model_from_hf_config(CONFIGS["gemma-3-1b"][0], "g3")
    windows = [op.window for op in _mixers(model)]
    assert windows[:6] == [512] * 5 + [None] and windows.count(None) == 26 // 6
    assert all(op.qk_norm for op in _mixers(model))


def test_gemma3_layer_types_field_wins_over_the_pattern():
    cfg = {
        **CONFIGS["gemma-3-1b"][0],
        "num_hidden_layers": 3,
        "layer_types": ["full_attention", "sliding_attention", "full_attention"],
    }
    assert [op.window for op in _mixers(model_from_hf_config(cfg, "g3"))] == [None, 512, None]


def test_gemma3_multimodal_has_a_vision_encoder_of_256_tokens():
    model = model_from_hf_config(CONFIGS["gemma-3-4b"][0], "g3mm")
    assert model.vision is not None and model.vision.tokens_per_tile == 256


def test_gptj_is_layernorm_gelu_with_biases_and_untied():
    model = model_from_hf_config(CONFIGS["gpt-j-6b"][0], "gptj")
    assert model.norm == "layernorm" and not model.tie_embeddings and model.hidden_size == 4096
    mlp = model.operators["mlp"]
    assert mlp.activation == "gelu" and mlp.bias and mlp.intermediate_size == 4 * 4096


def test_phi3_applies_its_sliding_window():
    model = model_from_hf_config(CONFIGS["phi-3-mini"][0], "phi3")
    assert model.operators["attn"].window == 2047


def test_mllama_places_cross_attention_layers_and_prices_a_decode_step():
    model = model_from_hf_config(CONFIGS["llama-3.2-11b-vision"][0], "mllama")
    kinds = [model.operators[b.ops[0]].type for b in model.blocks for _ in range(b.repeat)]
    assert [i for i, k in enumerate(kinds) if k == "cross_attention"] == [3, 8, 13, 18, 23, 28, 33, 38]
    assert model.operators["xattn"].num_context_tokens == 4 * (40 * 40 + 1)
    assert model.extra_embedding_rows == 8 and model.vision.num_layers == 40
    step = perfsim.decode_step(model, "h100-sxm", 1, 512)
    assert step.latency_s > 0 and "xattn_decode" in set(step.breakdown["kernel"])


def test_unsupported_architecture_is_one_sentence_listing_the_supported_ones():
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config({"model_type": "bloom", "hidden_size": 8}, "cfg.json")
    msg = str(err.value)
    assert msg.startswith("cfg.json: field 'model_type' is 'bloom'; supported: ")
    assert msg.endswith(".") and "\n" not in msg
    for kind in ("gemma2", "gemma3", "phi3", "gptj", "mllama", "llama"):
        assert kind in msg
