"""Fuzzed input files: every bundled kind of description, broken in every structural way and with
every leaf of real files replaced by a bad value. Each must load as a valid description (whose
prediction is then finite) or raise PerfsimInputError with one line naming the file; never a
traceback, a hang or a silently accepted nonsense value.
"""

from __future__ import annotations

import copy
import math
import random
import zlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.errors import PerfsimInputError
from perfsim.explore.space import load_space
from perfsim.io.load import load_hardware, load_model, load_runtime

REPO = Path(__file__).resolve().parents[2]
LOADERS = {"models": load_model, "hwprofiles": load_hardware, "runtimes": load_runtime, "spaces": load_space}
VALID_MODEL = (REPO / "models" / "qwen3-0.6b.yaml").read_text()
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=True)
)

#: name -> file contents that no loader may accept
STRUCTURAL = {
    "non-utf8": b"id: \xff\xfe caf\xe9\n",
    "binary": bytes(range(256)),
    "utf16": "id: x\n".encode("utf-16"),
    "empty": "",
    "whitespace": "  \n\n# only a comment\n",
    "list": "- a\n- b\n",
    "null": "null\n",
    "scalar": "42\n",
    "string": "just words\n",
    "deep-flow": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-flow-map": "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n",
    "deep-block": "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "x: 1\n",
    "alias-bomb": BOMB,
    "duplicate-key": VALID_MODEL + "hidden_size: 2048\n",
    "duplicate-nested": VALID_MODEL.replace("num_kv_heads: 8", "num_kv_heads: 8, num_kv_heads: 4"),
    "nan": VALID_MODEL.replace("hidden_size: 1024", "hidden_size: .nan"),
    "inf": VALID_MODEL.replace("published_params: 0.6e+9", "published_params: .inf"),
    "bool-for-int": VALID_MODEL.replace("hidden_size: 1024", "hidden_size: true"),
    "string-for-int": VALID_MODEL.replace("hidden_size: 1024", 'hidden_size: "1024"'),
    "float-for-int": VALID_MODEL.replace("hidden_size: 1024", "hidden_size: 1024.5"),
    "huge-repeat": VALID_MODEL.replace("repeat: 28", "repeat: 1000000"),
    "huge-int": VALID_MODEL.replace(
        "max_context_len: 40960", "max_context_len: 1000000000000000000000000000000"
    ),
    "unknown-key": VALID_MODEL + "hiden_size: 3\n",
    "tabs": "a:\t1\n\tb: 2\n",
    "unclosed": "a: [1, 2\n",
    "python-tag": "a: !!python/object/apply:os.system ['true']\n",
    "unhashable-key": "? [a, b]\n: 1\n",
}


def _check(load, path):
    """Load `path`: a valid description, or one PerfsimInputError line naming the file."""
    try:
        return load(path)
    except PerfsimInputError as exc:
        message = str(exc)
        assert "\n" not in message and message.endswith("."), message
        assert path.name in message, message
        return None


@pytest.mark.parametrize("kind", sorted(LOADERS))
@pytest.mark.parametrize("case", sorted(STRUCTURAL))
def test_structurally_bad_files_are_one_sentence(tmp_path, kind, case):
    contents = STRUCTURAL[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    # a model file that is otherwise valid is accepted by the model loader only if fixed above
    assert _check(LOADERS[kind], path) is None, f"{case} was accepted as a {kind} description"


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_folders_missing_files_and_wrong_types_are_one_sentence(tmp_path, kind):
    load = LOADERS[kind]
    for bad in (tmp_path, tmp_path / "missing.yaml", "", "x" * 300 + ".yaml", "a\x00b.yaml"):
        with pytest.raises(PerfsimInputError) as info:
            load(bad)
        assert "\n" not in str(info.value)
    if kind != "spaces":  # load_space also takes a mapping
        for bad in (None, 5, 1.5, [], b"x", object()):
            with pytest.raises(PerfsimInputError, match="expected a"):
                load(bad)


def _variant(base: str, vid: str) -> str:
    return (
        f"base: {base}\nid: {vid}\ndisplay_name: {vid}\nsource: {{url: u}}\n"
        "transforms: [{name: kv_heads, num_kv_heads: 4}]\n"
    )


def test_a_variant_whose_base_is_itself_or_a_cycle_is_one_sentence(tmp_path):
    (tmp_path / "self.yaml").write_text(_variant("./self.yaml", "self"))
    (tmp_path / "a.yaml").write_text(_variant("./b.yaml", "a"))
    (tmp_path / "b.yaml").write_text(_variant("./c.yaml", "b"))
    (tmp_path / "c.yaml").write_text(_variant("./a.yaml", "c"))
    for name in ("self.yaml", "a.yaml"):
        with pytest.raises(PerfsimInputError, match="leads back to a file already in its chain"):
            load_model(tmp_path / name)
    (tmp_path / "ok.yaml").write_text(_variant("qwen3-8b", "ok"))
    assert load_model(tmp_path / "ok.yaml").id == "ok"


def test_yaml_one_point_two_floats_are_numbers(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(VALID_MODEL.replace("published_params: 0.6e+9", "published_params: 6e8"))
    assert load_model(path).published_params == 6e8


# ---- mutations of real files ---------------------------------------------------------------

BAD_VALUES = [
    float("nan"),
    float("inf"),
    float("-inf"),
    -1,
    0,
    10**30,
    True,
    "8",
    [1],
    None,
    1.5,
    -1e-9,
    {"x": 1},
    "",
    2**63,
]
MUTATED = {
    "models": ["qwen3-0.6b", "nemotron-h-8b", "deepseek-v2-lite", "gpt-oss-puzzle-88b"],
    "hwprofiles": ["h100-sxm", "jetson-orin-nano-8gb-15w"],
    "runtimes": ["vllm", "llama.cpp"],
}
#: free-text leaves whose value nothing computes with
TEXT_FIELDS = {"url", "note", "display_name", "id", "notes", "source", "reason"}


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _leaves(value, (*path, i))
    else:
        yield path, data


def _set(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _mutations(kind: str, name: str, count: int, seed: int):
    base = yaml.safe_load((REPO / kind / f"{name}.yaml").read_text())
    leaves = [p for p, v in _leaves(base) if not (isinstance(v, str) and set(map(str, p)) & TEXT_FIELDS)]
    rng = random.Random(seed)
    for _ in range(count):
        data = copy.deepcopy(base)
        for _ in range(rng.choice((1, 1, 2))):
            _set(data, rng.choice(leaves), rng.choice(BAD_VALUES))
        yield data


def _finite_prediction(model, hw):
    r = perfsim.generate(model, hw, batch=2, prompt_len=64, output_len=4, check_memory=False)
    for value in (r.ttft_s, r.tpot_s, r.e2e_s, r.tokens_per_s):
        assert math.isfinite(value) and value > 0, (model.id, hw.id, r.to_dict())


@pytest.mark.parametrize("kind, name", [(k, n) for k, names in MUTATED.items() for n in names])
def test_mutated_bundled_files_load_or_fail_in_one_sentence(tmp_path, h100, kind, name):
    """120 mutations per file (seeded); valid ones must also predict finite numbers."""
    qwen = load_model("qwen3-0.6b")
    for i, data in enumerate(_mutations(kind, name, 120, seed=zlib.crc32(f"{kind}/{name}".encode()))):
        path = tmp_path / f"{name}-{i}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        loaded = _check(LOADERS[kind], path)
        if loaded is None:  # every valid mutation must also predict finite numbers
            continue
        try:
            if kind == "models":
                _finite_prediction(loaded, h100)
            elif kind == "hwprofiles":
                _finite_prediction(qwen, loaded)
        except PerfsimInputError as exc:
            assert "\n" not in str(exc)


# ---- arbitrary YAML documents --------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
_documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "id",
        "hidden_size",
        "operators",
        "blocks",
        "base",
        "compute",
        "memory",
        "kernels",
        "scheduler",
        "model",
        "parameters",
        "transforms",
        "alias_of",
    ]
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_keys | st.text(max_size=6), _documents, max_size=6), st.sampled_from(sorted(LOADERS)))
def test_arbitrary_documents_never_crash(tmp_path, document, kind):
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(document))
    _check(LOADERS[kind], path)
