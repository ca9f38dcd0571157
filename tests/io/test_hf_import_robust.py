"""A malformed config.json (a list, null, 0 / "8" / [512] sizes, missing fields, a bad nested
config) gets one sentence naming the file and the field, never a traceback."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsim.errors import PerfsimInputError
from perfsim.io.hf_import import model_from_hf_config

LLAMA = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 1000,
    "max_position_embeddings": 512,
}
MLLAMA = {
    "model_type": "mllama",
    "text_config": {**LLAMA, "model_type": None, "cross_attention_layers": [1]},
    "vision_config": {
        "hidden_size": 32,
        "image_size": 56,
        "patch_size": 14,
        "num_hidden_layers": 2,
        "attention_heads": 4,
        "intermediate_size": 64,
    },
}


def _one_sentence(exc, *names):
    msg = str(exc.value)
    assert msg.startswith("c.json: ") and "\n" not in msg and msg.endswith(".")
    for name in names:
        assert name in msg
    return msg


def test_a_valid_small_config_imports():
    assert model_from_hf_config(LLAMA, "c.json").hidden_size == 64
    assert model_from_hf_config(MLLAMA, "c.json").operators["xattn"].type == "cross_attention"


@pytest.mark.parametrize("cfg", [[LLAMA], None, "llama", 3])
def test_a_config_that_is_not_an_object(cfg):
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config(cfg, "c.json")
    _one_sentence(err, "JSON object")


@pytest.mark.parametrize(
    "field",
    [
        "num_attention_heads",
        "hidden_size",
        "num_hidden_layers",
        "vocab_size",
        "intermediate_size",
        "num_key_value_heads",
        "max_position_embeddings",
    ],
)
@pytest.mark.parametrize("bad", [0, -8, "8", [512], 8.5, True, {"n": 8}])
def test_a_size_that_is_not_a_positive_integer(field, bad):
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config({**LLAMA, field: bad}, "c.json")
    _one_sentence(err, f"'{field}'", "positive integer")


@pytest.mark.parametrize("field", ["num_attention_heads", "hidden_size", "num_hidden_layers", "vocab_size"])
@pytest.mark.parametrize("how", ["missing", "null"])
def test_a_missing_or_null_required_field(field, how):
    cfg = {k: v for k, v in LLAMA.items() if k != field} if how == "missing" else {**LLAMA, field: None}
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config(cfg, "c.json")
    _one_sentence(err, f"'{field}'", how)


def test_heads_that_do_not_divide_the_hidden_size():
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config({**LLAMA, "num_attention_heads": 5}, "c.json")
    _one_sentence(err, "'hidden_size'", "'num_attention_heads'")


@pytest.mark.parametrize(
    ("key", "bad"),
    [("text_config", [1]), ("text_config", None), ("vision_config", "x"), ("cross_attention_layers", "3")],
)
def test_a_bad_nested_config(key, bad):
    cfg = json.loads(json.dumps(MLLAMA))
    (cfg["text_config"] if key == "cross_attention_layers" else cfg)[key] = bad
    with pytest.raises(PerfsimInputError) as err:
        model_from_hf_config(cfg, "c.json")
    _one_sentence(err, f"'{key}'")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda c: st.lists(c, max_size=3),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["llama", "gemma2", "gemma3", "gemma3_text", "phi3", "gptj", "mllama", "qwen3"]),
    field=st.sampled_from(
        sorted(
            {
                *LLAMA,
                "head_dim",
                "sliding_window",
                "n_embd",
                "n_head",
                "n_layer",
                "text_config",
                "vision_config",
                "layer_types",
                "n_inner",
            }
        )
    ),
    value=json_values,
)
def test_any_corrupted_field_is_a_model_or_one_sentence(kind, field, value):
    cfg = {
        **LLAMA,
        "model_type": kind,
        "sliding_window": 16,
        "n_embd": 64,
        "n_head": 4,
        "n_layer": 2,
        "head_dim": 16,
        field: value,
    }
    if kind == "mllama":
        cfg = {**MLLAMA, "text_config": {**MLLAMA["text_config"], field: value}}
    try:
        model_from_hf_config(cfg, "c.json")
    except PerfsimInputError as exc:
        msg = str(exc)
        assert msg.startswith("c.json") and "\n" not in msg


@pytest.mark.parametrize("types", [["full_attention"], ["sliding_attention"] * 99, "full_attention", [1, 2]])
def test_layer_types_of_the_wrong_length_or_kind_is_one_sentence(types):
    """A short `layer_types` list once became a shorter model without a word."""
    cfg = {**LLAMA, "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "sliding_window": 4096,
           "layer_types": types}
    with pytest.raises(PerfsimInputError, match="field 'layer_types' must list one string per layer") as err:
        model_from_hf_config(cfg, "config.json")
    assert "\n" not in str(err.value)
