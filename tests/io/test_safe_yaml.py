"""The one door for YAML and JSON input: each refusal is one sentence naming the file and field."""

import re

import pytest

from perfsim.errors import PerfsimInputError
from perfsim.io.safe_yaml import MAX_ALIASES, MAX_DEPTH, parse_json, parse_yaml, read_text


def refused(parse, text):
    with pytest.raises(PerfsimInputError) as info:
        parse("f.yaml", text)
    message = str(info.value)
    assert message.startswith("f.yaml: ") and "\n" not in message
    return message


def test_duplicate_keys_are_refused_with_the_line():
    assert "gives key 'a' twice (line 3)" in refused(parse_yaml, "a: 1\nb: 2\na: 3\n")
    assert "given twice" in refused(parse_json, '{"a": 1, "a": 2}')


def test_non_finite_and_absurd_numbers_name_the_field():
    assert "field 'x.y' is nan" in refused(parse_yaml, "x: {y: .nan}\n")
    assert "field 'x.1' is inf" in refused(parse_yaml, "x: [1, .inf]\n")
    assert "at most 1e+18" in refused(parse_yaml, "x: 1.0e+30\n")
    assert "finite numbers only" in refused(parse_json, '{"x": Infinity}')


def test_yaml_one_point_two_exponents_are_floats():
    assert parse_yaml("f", "a: 1e9\nb: 2.5E-3\nc: '1e9'\n") == {"a": 1e9, "b": 2.5e-3, "c": "1e9"}


def test_nesting_and_alias_limits():
    assert f"nested deeper than {MAX_DEPTH}" in refused(parse_yaml, "a: " + "[" * 200 + "]" * 200)
    assert f"nested deeper than {MAX_DEPTH}" in refused(parse_json, "[" * 100_000 + "]" * 100_000)
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert "aliases" in refused(parse_yaml, many)


def test_top_level_must_be_a_mapping():
    for text, got in (("- 1\n", "a list"), ("null\n", "nothing"), ("3\n", "a number"), ("x\n", "a string")):
        assert f"got {got}" in refused(parse_yaml, text)


def test_read_text_refuses_folders_empty_and_non_utf8_files(tmp_path):
    (tmp_path / "empty.yaml").write_text(" \n")
    (tmp_path / "latin1.yaml").write_bytes("caf\xe9: 1\n".encode("latin-1"))
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    for path, needle in (
        (tmp_path, "is a folder"),
        (tmp_path / "empty.yaml", "is empty"),
        (tmp_path / "latin1.yaml", "not a UTF-8 text file (byte 3"),
        (tmp_path / "nope.yaml", "file not found"),
    ):
        with pytest.raises(PerfsimInputError, match=re.escape(needle)):
            read_text(path)
    assert read_text(tmp_path / "bom.yaml") == "a: 1\n"


def test_messages_stay_on_one_line_whatever_the_keys_hold():
    assert "field 'a\\nb' is nan" in refused(parse_yaml, '"a\\nb": .nan\n')


def test_model_errors_name_the_field_not_the_union_tag(tmp_path):
    from pathlib import Path

    import perfsim

    text = (Path(__file__).resolve().parents[2] / "models" / "qwen3-0.6b.yaml").read_text()
    for old, new, needle in (
        ("num_kv_heads: 8", "num_kv_heads: 0", "field 'operators.attn.num_kv_heads'"),
        (
            "type: attention",
            "type: atention",
            "field 'operators.attn.type' is invalid: 'atention' is not one of",
        ),
    ):
        path = tmp_path / "m.yaml"
        path.write_text(text.replace(old, new))
        with pytest.raises(PerfsimInputError, match=re.escape(needle)):
            perfsim.load_model(path)
