"""Variant model files (base + transforms), the bundled Puzzle variants and the A10G 128k case."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.memory import kv_bytes_per_token
from perfsim.spec.model import AttentionSpec, LinearSpec, MLPSpec, MoESpec
from perfsim.transforms.layout import fold


def test_nemotron_51b_block_configuration():
    """papers-addendum.md section 2: 54 GQA + 18 linear + 8 no-op; 51.5B; 190 KB KV per token."""
    model = perfsim.load_model("llama-3.1-nemotron-51b")
    attn = [s for s in model.sublayers if isinstance(s, AttentionSpec)]
    kv = sorted(s.num_kv_heads for s in attn)
    assert (kv.count(8), kv.count(4), kv.count(2), kv.count(1)) == (44, 1, 6, 3)
    assert sum(isinstance(s, LinearSpec) for s in model.sublayers) == 18
    widths = [s.intermediate_size for s in model.sublayers if isinstance(s, MLPSpec)]
    assert (len(widths), widths.count(28672), widths.count(14336), widths.count(7168)) == (80, 44, 16, 20)
    assert perfsim.model_params(model).total == pytest.approx(51.5e9, rel=0.005)
    assert kv_bytes_per_token(model)[0] == 94976 * 2
    assert len(model.applied_transforms) == 6


def test_gpt_oss_puzzle_88b_layout():
    """papers-addendum.md section 2b: 10 full + 8 8K-window + 18 128-window layers, 18 x 64 experts."""
    model = perfsim.load_model("gpt-oss-puzzle-88b")
    windows = [s.window for s in model.sublayers if isinstance(s, AttentionSpec)]
    assert (windows.count(None), windows.count(8192), windows.count(128)) == (10, 8, 18)
    experts = [s.num_experts for s in model.sublayers if isinstance(s, MoESpec)]
    assert experts.count(64) == 18 and experts.count(128) == 18 and experts[15] == 64 and experts[16] == 128
    assert model.dtypes.kv_cache == "fp8" and model.published_params == 88.0e9
    assert perfsim.model_params(model).total == pytest.approx(88.1e9, rel=0.005)


def test_nano_9b_fits_a10g_at_128k_and_qwen3_8b_does_not():
    """Nemotron Nano 2's deployment claim (papers.md 9): 128k tokens on one A10G in bf16, with
    vLLM's chunked prefill (2048 tokens there). Qwen3-8B needs YaRN to reach 128k at all."""
    nano = perfsim.memory("nemotron-nano-9b-v2", "a10g", 1, 131072, prefill_chunk_tokens=2048)
    assert nano.fits
    assert nano.weights_bytes + nano.kv_cache_bytes + nano.state_bytes < 19.66 * 2**30  # the paper's budget
    text = nano.explain("nemotron-nano-9b-v2", "a10g", 1, 131072)
    assert "it fits" in text and "KV cache 2.15 GB" in text
    qwen = perfsim.memory("qwen3-8b-yarn-128k", "a10g", 1, 131072, prefill_chunk_tokens=2048)
    assert not qwen.fits and qwen.max_batch == 0
    text = qwen.explain("qwen3-8b-yarn-128k", "a10g", 1, 131072)
    assert "does not fit, short by 12.82 GB" in text and "KV cache 19.33 GB" in text
    with pytest.raises(perfsim.PerfsimInputError, match="exceeds max_context_len 40960 of qwen3-8b"):
        perfsim.memory("qwen3-8b", "a10g", 1, 131072)


def test_variant_file_with_relative_base(tmp_path, write_yaml):
    base = perfsim.load_model("llama-3.1-8b").model_dump(mode="json", exclude_none=True)
    write_yaml(base, "mybase.yaml")
    path = write_yaml({"schema_version": 1, "base": "mybase.yaml", "id": "mine", "display_name": "Mine",
                       "source": {"url": "local"}, "published_params": 7e9,
                       "transforms": [{"name": "remove_attention", "layers": [0, 1]},
                                      {"name": "ffn_fusion"}]}, "variant.yaml")
    model = perfsim.load_model(path)
    assert model.id == "mine" and model.published_params == 7e9
    assert len(model.sublayers) == 64 - 2 - 1
    assert model.applied_transforms == ["remove_attention(layers=[0-1], replace_with=none)", "ffn_fusion()"]


@pytest.mark.parametrize("variant, needle", [
    ({"base": "llama-3.1-8b", "id": "x", "display_name": "x", "source": {"url": "u"}, "transforms": []},
     "field 'transforms'"),
    ({"base": "llama-3.1-8b", "id": "x", "display_name": "x", "source": {"url": "u"},
      "transforms": [{"name": "ffn_width", "intermediate_size": 0}]}, "variant.yaml: ffn_width"),
    ({"base": "nope", "id": "x", "display_name": "x", "source": {"url": "u"},
      "transforms": [{"name": "ffn_fusion"}]}, "unknown model 'nope'"),
    ({"base": "llama-3.1-8b", "id": "x", "display_name": "x", "source": {"url": "u"}, "hidden_size": 3,
      "transforms": [{"name": "ffn_fusion"}]}, "field 'hidden_size' is not a known key"),
])
def test_bad_variant_files_are_one_sentence(write_yaml, variant, needle):
    with pytest.raises(perfsim.PerfsimInputError, match=needle):
        perfsim.load_model(write_yaml({"schema_version": 1, **variant}, "variant.yaml"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["attn", "mlp", "attn_w", "mlp_2"]), min_size=1, max_size=60))
def test_folding_into_blocks_preserves_the_sequence(names):
    specs = [AttentionSpec(num_heads=2, num_kv_heads=1, head_dim=8) if n.startswith("attn")
             else MLPSpec(intermediate_size=16) for n in names]
    blocks = fold(names, specs)
    assert [op for b in blocks for _ in range(b["repeat"]) for op in b["ops"]] == names
