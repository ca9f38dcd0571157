"""Parameter counts of every bundled model against the count its makers published.

`model_params` counts the embedding table, the lm_head (when untied) and every operator with its
pre-norm; a model YAML whose dims are wrong misses its published total by far more than the
rounding of the published figure, so this is the guard on the bundled catalogue.
"""

from __future__ import annotations

import pytest

from perfsim.cost.params import model_params
from perfsim.io.catalog import bundled_dir
from perfsim.io.load import load_model

#: Default tolerance: published counts are given to 3 significant figures ("7.61B", "30.5B").
DEFAULT_REL = 0.015

#: Per-model tolerance on the total, where the published figure is rounded harder than that.
TOTAL_REL: dict[str, float] = {}

#: Per-model tolerance on the active count.
ACTIVE_REL: dict[str, float] = {
    # The model card's "3.3B activated" is rounded to 2 significant figures; the config's weights
    # give 3.353B (embedding and lm_head included, the convention Qwen uses: its 29.9B
    # "non-embedding" figure is the total less both tables), i.e. 1.6 % above 3.3B.
    "qwen3-30b-a3b": 0.02,
    # DeepSeek-V2 paper: "2.4B activated"; the config's weights give 2.451B without the input
    # embedding (+2.1 %), the convention under which DeepSeek-V2 (21B) and V3 (37B) land within 1 %.
    "deepseek-v2-lite": 0.025,
}

#: Models whose published *active* count leaves out the input embedding table (a lookup, no
#: matmul), while `model_params(...).active` counts it. For these the test subtracts
#: (vocab_size + extra_embedding_rows) * hidden_size from the computed active count first.
ACTIVE_EXCLUDES_INPUT_EMBEDDING = {
    # gpt-oss model card: 116.8B total / 5.13B active and 20.9B / 3.61B; the active figures
    # count the unembedding but not the embedding (computed with it: 5.71B / 4.19B).
    "gpt-oss-20b",
    "gpt-oss-120b",
    # Nemotron 3 Nano: "3.2B active (3.6B including embeddings)"; 3.58B with the table.
    "nemotron-3-nano-30b-a3b",
    # DeepSeek-V3 report 37B activated (computed 36.63B without the table, 37.55B with it);
    # DeepSeek-V2-Lite, see ACTIVE_REL.
    "deepseek-v3",
    "deepseek-v2-lite",
}

#: The catalogue the simulator promises; each must be bundled and carry a published count.
REQUIRED_MODELS = {
    "llama-2-7b",
    "llama-3.1-8b",
    "qwen2.5-7b",
    "qwen3-0.6b",
    "qwen3-1.7b",
    "qwen3-8b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "mamba2-2.7b",
    "nemotron-h-8b",
    "nemotron-nano-9b-v2",
    "nemotron-3-nano-30b-a3b",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "nemotron-flash-1b",
    "nemotron-flash-3b",
}


def _bundled_ids() -> list[str]:
    directory = bundled_dir("models")
    return sorted(f.name[: -len(".yaml")] for f in directory.iterdir() if f.name.endswith(".yaml"))


BUNDLED = _bundled_ids()
WITH_TOTAL = [m for m in BUNDLED if load_model(m).published_params is not None]
WITH_ACTIVE = [m for m in BUNDLED if load_model(m).published_active_params is not None]


def test_required_models_are_bundled() -> None:
    missing = sorted(REQUIRED_MODELS - set(BUNDLED))
    assert not missing, f"models missing from models/: {missing}"


def test_tolerance_tables_name_bundled_models() -> None:
    stale = sorted(
        (set(TOTAL_REL) | set(ACTIVE_REL) | ACTIVE_EXCLUDES_INPUT_EMBEDDING) - set(BUNDLED)
    )
    assert not stale, f"tolerance entries for models that are not bundled: {stale}"


@pytest.mark.parametrize("model_id", WITH_TOTAL)
def test_total_params_match_published(model_id: str) -> None:
    spec = load_model(model_id)
    total = model_params(spec).total
    rel = TOTAL_REL.get(model_id, DEFAULT_REL)
    assert total == pytest.approx(spec.published_params, rel=rel), (
        f"{model_id}: computed {total / 1e9:.4f}B vs published {spec.published_params / 1e9:.4f}B "
        f"({(total / spec.published_params - 1) * 100:+.2f} %, tolerance {rel * 100:.1f} %)"
    )


@pytest.mark.parametrize("model_id", WITH_ACTIVE)
def test_active_params_match_published(model_id: str) -> None:
    spec = load_model(model_id)
    active = model_params(spec).active
    if model_id in ACTIVE_EXCLUDES_INPUT_EMBEDDING:
        active -= (spec.vocab_size + spec.extra_embedding_rows) * spec.hidden_size
    rel = ACTIVE_REL.get(model_id, DEFAULT_REL)
    published = spec.published_active_params
    assert active == pytest.approx(published, rel=rel), (
        f"{model_id}: computed active {active / 1e9:.4f}B vs published {published / 1e9:.4f}B "
        f"({(active / published - 1) * 100:+.2f} %, tolerance {rel * 100:.1f} %)"
    )


@pytest.mark.parametrize("model_id", WITH_ACTIVE)
def test_active_not_above_total(model_id: str) -> None:
    counts = model_params(load_model(model_id))
    assert 0 < counts.active < counts.total
