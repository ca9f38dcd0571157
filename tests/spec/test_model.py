import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.io.catalog import bundled_dir, list_ids


def _raw(name):
    return yaml.safe_load((bundled_dir("models") / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", list_ids("models"))
def test_every_bundled_model_loads(name):
    model = perfsim.load_model(name)
    assert model.sublayers and model.num_mixer_layers > 0


def test_pattern_layout_expands_in_order():
    model = perfsim.load_model("nemotron-h-8b")
    assert len(model.sublayers) == 52
    kinds = [s.type for s in model.sublayers]
    assert kinds.count("attention") == 4 and kinds.count("mamba2") == 24 and kinds.count("mlp") == 24
    assert kinds[:3] == ["mamba2", "mlp", "mamba2"]


def test_heads_must_divide(write_yaml):
    data = _raw("llama-3.1-8b")
    data["operators"]["attn"]["num_kv_heads"] = 5
    with pytest.raises(perfsim.PerfsimInputError, match=r"operators\.attn.*multiple of num_kv_heads"):
        perfsim.load_model(write_yaml(data))


def test_window_larger_than_context_is_rejected(write_yaml):
    data = _raw("llama-3.1-8b")
    data["operators"]["attn"]["window"] = 10**7
    with pytest.raises(perfsim.PerfsimInputError, match="window .* must be <= max_context_len"):
        perfsim.load_model(write_yaml(data))


def test_unknown_dtype_is_rejected(write_yaml):
    data = _raw("llama-3.1-8b")
    data["dtypes"] = {"weights": "bf17"}
    with pytest.raises(perfsim.PerfsimInputError, match=r"dtypes\.weights"):
        perfsim.load_model(write_yaml(data))


def test_undefined_operator_is_rejected(write_yaml):
    data = _raw("llama-3.1-8b")
    data["blocks"] = [{"repeat": 2, "ops": ["attn", "ffn"]}]
    with pytest.raises(perfsim.PerfsimInputError, match=r"undefined operator\(s\) \['ffn'\]"):
        perfsim.load_model(write_yaml(data))


_SIZE_FIELDS = [("hidden_size",), ("vocab_size",), ("max_context_len",),
                ("operators", "attn", "num_heads"), ("operators", "attn", "head_dim"),
                ("operators", "mlp", "intermediate_size")]


@settings(max_examples=40, deadline=None)
@given(field=st.sampled_from(_SIZE_FIELDS),
       value=st.one_of(st.integers(max_value=0), st.text(max_size=5), st.floats(allow_nan=True)))
def test_any_bad_size_gives_one_sentence_naming_file_and_field(tmp_path_factory, field, value):
    data = _raw("llama-3.1-8b")
    node = data
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value
    path = tmp_path_factory.mktemp("m") / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        perfsim.load_model(path)
    except perfsim.PerfsimInputError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: field '")
        assert field[-1] in message
        assert "\n" not in message and "Traceback" not in message
    else:  # only values pydantic can coerce to a valid positive int may pass
        assert isinstance(value, (int, float, str))
        assert int(float(value)) > 0


def _with(**changes):
    data = _raw("qwen3-0.6b")
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, needle", [
    ({"blocks": [{"repeat": 1_000_000, "ops": ["attn", "mlp"]}]}, "2,000,000 sublayers"),
    ({"blocks": None, "layer_pattern": "A" * 200_000, "pattern_ops": {"A": "attn"}}, "200,000 sublayers"),
    ({"blocks": []}, "no sublayers"),
    ({"blocks": None, "layer_pattern": "", "pattern_ops": {"A": "attn"}}, "no sublayers"),
    ({"hidden_size": True}, "hidden_size"),
    ({"hidden_size": 1024.0}, "hidden_size"),
    ({"max_context_len": 10**30}, "max_context_len"),
    ({"published_params": float("nan")}, "published_params"),
    ({"published_params": float("inf")}, "published_params"),
])
def test_nonsense_sizes_are_refused_at_the_api_too(changes, needle):
    """The schema itself (not only the YAML door) refuses bools, floats for ints, huge sizes, NaN."""
    with pytest.raises(ValueError) as info:
        perfsim.ModelSpec.model_validate(_with(**changes))
    assert needle in str(info.value)
