"""Uploads: every problem of a file listed, and the loaded object carried by the URL exactly."""

from __future__ import annotations

import pytest
import yaml

import perfsim
from perfsim.dashboard.uploads import from_link, load_upload, to_link


def test_every_problem_of_an_uploaded_file_is_listed():
    data = perfsim.load_model("qwen3-8b").model_dump(mode="json")
    for key in ("tpyo_a", "tpyo_b", "tpyo_c"):
        data[key] = 1
    data["hidden_size"] = "wide"
    with pytest.raises(perfsim.PerfsimInputError) as exc:
        load_upload("model", "mine.yaml", yaml.safe_dump(data).encode())
    text = str(exc.value)
    assert text.startswith("mine.yaml has 4 problems:")
    for key in ("tpyo_a", "tpyo_b", "tpyo_c", "hidden_size"):
        assert f"field '{key}'" in text
    assert "more problem" not in text


@pytest.mark.parametrize("kind, name", [("model", "nemotron-h-8b"), ("hardware", "a10g")])
def test_link_round_trip_is_exact(kind, name):
    obj = perfsim.load_model(name) if kind == "model" else perfsim.load_hardware(name)
    assert from_link(kind, to_link(obj)).model_dump() == obj.model_dump()


def test_damaged_link_is_one_sentence():
    with pytest.raises(perfsim.PerfsimInputError, match="URL parameter model_spec: the embedded model could "
                                                        "not be read"):
        from_link("model", "garbage")
