"""depth, width and hybridise: the shape edits the dashboard and design generators share."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.params import operator_params
from perfsim.explore.design import HybridDesign
from perfsim.spec.model import AttentionSpec, LinearAttentionSpec, Mamba2Spec
from perfsim.transforms import (
    REPLACEMENTS,
    Depth,
    Hybridise,
    Width,
    apply_transforms,
    make_transform,
    num_layers,
    replacement,
    scaled,
)
from perfsim.transforms.depth import layer_kinds, resample
from perfsim.transforms.hybridise import kept_attention

QWEN = perfsim.load_model("qwen3-8b")
NEMOTRON_H = perfsim.load_model("nemotron-h-8b")
GPT_OSS = perfsim.load_model("gpt-oss-20b")


def total(model):
    return perfsim.model_params(model).total


def embedding(model):
    return model.vocab_size * model.hidden_size * (1 if model.tie_embeddings else 2)


# ---- depth -------------------------------------------------------------------------------------

def test_depth_counts_layers_as_the_layout_does():
    """Puzzle's linear stand-ins open layers too: 54 attention + 18 linear layers."""
    assert num_layers(perfsim.load_model("llama-3.1-nemotron-51b")) == 72
    assert num_layers(QWEN) == 36


@pytest.mark.parametrize("depth", [1, 7, 14, 27, 28, 29, 56, 100])
def test_depth_keeps_a_hybrids_mix(depth):
    out = Depth(depth).apply(NEMOTRON_H)
    assert num_layers(out) == depth
    before, after = Counter(layer_kinds(NEMOTRON_H)), Counter(layer_kinds(out))
    for kind, n in before.items():
        assert abs(after[kind] - depth * n / num_layers(NEMOTRON_H)) <= 1


def test_depth_keeps_a_periodic_pattern_and_its_place():
    """Five sliding-window layers then one global, six times: every 2nd layer would lose the global
    layers; resampling to 18 keeps the 5:1 pattern, with the global layer last in each period."""
    model = HybridDesign(n_layers=36, hidden_size=1024,
                         mixers=(("sliding_window",) * 5 + ("attention",)) * 6).to_model()
    kinds = [k[0] for k in layer_kinds(Depth(18).apply(model))]
    assert kinds == (["sliding_window"] * 5 + ["attention"]) * 3


def test_depth_grows_by_repeating_layers_in_place():
    kinds = layer_kinds(GPT_OSS)
    assert resample(kinds, 3 * len(kinds)) == [i for i in range(len(kinds)) for _ in range(3)]
    assert num_layers(Depth(48).apply(GPT_OSS)) == 48


def test_depth_halves_nemotron_h_without_losing_its_attention():
    half = Depth(14).apply(NEMOTRON_H)
    kinds = [k[0] for k in layer_kinds(half)]
    assert kinds.count("attention") == 2 and kinds.count("mamba2") == 12
    assert half.sublayers[0] == NEMOTRON_H.sublayers[0] and half.sublayers[-1] == NEMOTRON_H.sublayers[-1]


def test_depth_identity_and_provenance():
    assert Depth(36).apply(QWEN) is QWEN
    out = apply_transforms(QWEN, [{"name": "depth", "num_layers": 18}])
    assert out.applied_transforms == ["depth(num_layers=18)"]
    assert out.published_params is None and out.accuracy is None
    assert out.num_mixer_layers == 18


@settings(max_examples=200, deadline=None)
@given(kinds=st.lists(st.sampled_from("AMSDL"), min_size=1, max_size=60), depth=st.integers(1, 150))
def test_resample_properties(kinds, depth):
    """Length as asked, each kind within one layer of its share, layers of a kind used in order
    (first and last kept when two or more are taken), and the identity at the same depth."""
    picks = resample(kinds, depth)
    assert len(picks) == depth
    out = [kinds[i] for i in picks]
    for kind in set(kinds):
        assert abs(out.count(kind) - depth * kinds.count(kind) / len(kinds)) <= 1
        used = [i for i in picks if kinds[i] == kind]
        members = [i for i, k in enumerate(kinds) if k == kind]
        assert used == sorted(used)
        if len(used) >= 2:
            assert (used[0], used[-1]) == (members[0], members[-1])
    assert resample(kinds, len(kinds)) == list(range(len(kinds)))


# ---- width -------------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(eighths=st.integers(2, 24))
def test_width_scales_non_embedding_params_quadratically(eighths):
    """Qwen3-8B at k/8 of its width: heads, KV heads and FFN round exactly, so the layers' parameters
    scale with the square of the ratio (norms, linear in it, are the small remainder)."""
    ratio = eighths / 8
    out = Width(QWEN.hidden_size * eighths // 8).apply(QWEN)
    body = (total(out) - embedding(out)) / (total(QWEN) - embedding(QWEN))
    assert body == pytest.approx(ratio**2, rel=0.01)
    attn = out.operators["attn"]
    assert attn.head_dim == 128 and attn.num_heads // attn.num_kv_heads == 4


def test_width_scales_hybrid_and_moe_widths():
    narrow = Width(2048).apply(NEMOTRON_H)
    mamba = next(s for s in narrow.sublayers if isinstance(s, Mamba2Spec))
    orig = next(s for s in NEMOTRON_H.sublayers if isinstance(s, Mamba2Spec))
    assert mamba.num_heads % mamba.n_groups == 0 and mamba.num_heads < orig.num_heads
    moe = Width(GPT_OSS.hidden_size // 2).apply(GPT_OSS).operators["moe"]
    assert moe.num_experts == GPT_OSS.operators["moe"].num_experts
    assert moe.expert_intermediate_size == scaled(GPT_OSS.operators["moe"].expert_intermediate_size, 0.5)
    assert Width(QWEN.hidden_size).apply(QWEN) is QWEN


# ---- hybridise ---------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(REPLACEMENTS), share=st.floats(0, 1))
def test_hybridise_replaces_the_asked_share(kind, share):
    out = Hybridise(kind, share).apply(QWEN)
    replaced = round(share * 36)
    full = [s for s in out.sublayers if isinstance(s, AttentionSpec) and s.window is None]
    assert len(full) == 36 - replaced
    assert out.num_mixer_layers == 36
    assert Hybridise(kind, share).apply(QWEN) == out  # deterministic


def test_hybridise_keeps_attention_evenly_spread():
    out = Hybridise("mamba2", 0.75).apply(QWEN)
    kept = [i for i, s in enumerate(s for s in out.sublayers if not isinstance(s, type(out.operators["mlp"])))
            if isinstance(s, AttentionSpec)]
    gaps = {b - a for a, b in zip(kept, kept[1:], strict=False)}
    assert kept[0] == 0 and kept[-1] == 35 and max(gaps) - min(gaps) <= 1
    assert kept_attention(4, 0.5) == [0, 3]


def test_hybridise_sizes_each_kind_by_the_recipe():
    attn = QWEN.operators["attn"]
    for kind in REPLACEMENTS:
        out = Hybridise(kind, 1.0).apply(QWEN)
        new = {s for s in out.sublayers if not isinstance(s, type(QWEN.operators["mlp"]))}
        assert new == {replacement(kind, attn, QWEN.hidden_size, QWEN.max_context_len)}
    mamba = replacement("mamba2", attn, 4096, 131072)
    assert (mamba.num_heads, mamba.head_dim, mamba.state_size, mamba.n_groups, mamba.chunk_size) == \
        (128, 64, 128, 1, 128)
    gdn = replacement("gated_deltanet", attn, 4096, 131072)
    assert isinstance(gdn, LinearAttentionSpec) and (gdn.num_heads, gdn.head_k_dim) == (32, 128)
    assert replacement("sliding_window", attn, 4096, 256).window == 256  # capped at the context


def test_hybridise_touches_only_full_attention_and_records_itself():
    out = apply_transforms(GPT_OSS, [make_transform({"name": "hybridise", "kind": "gated_deltanet",
                                                     "share": 0.5})])
    windows = [s for s in out.sublayers if isinstance(s, AttentionSpec) and s.window]
    assert len(windows) == 12 and sum(isinstance(s, LinearAttentionSpec) for s in out.sublayers) == 6
    assert out.applied_transforms == ["hybridise(kind=gated_deltanet, share=0.5)"]
    assert out.published_params is None
    mamba = Hybridise("mamba2", 1.0).apply(QWEN)
    swapped = operator_params(mamba.sublayers[0], QWEN.hidden_size, QWEN.hidden_size).total
    assert total(QWEN) - total(mamba) == 36 * (operator_params(QWEN.operators["attn"], QWEN.hidden_size,
                                                              QWEN.hidden_size).total - swapped)


# ---- bad arguments -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec, needle", [
    ({"name": "depth", "num_layers": 0}, r"depth: num_layers must be an integer in 1\.\.4096 \(got 0\)"),
    ({"name": "depth", "num_layers": 5000}, r"num_layers must be an integer in 1\.\.4096"),
    ({"name": "depth", "num_layers": 2.5}, r"num_layers must be an integer in 1\.\.4096"),
    ({"name": "width", "hidden_size": 0}, r"width: hidden_size must be a positive integer \(got 0\)"),
    ({"name": "hybridise", "kind": "rwkv"}, r"hybridise: kind must be one of sliding_window, mamba2"),
    ({"name": "hybridise", "kind": "mamba2", "share": 1.5},
     r"share must be a fraction in 0\.\.1 \(got 1\.5\)"),
    ({"name": "hybridise", "kind": "sliding_window", "window": 0}, "window must be a positive integer"),
])
def test_bad_arguments_are_one_sentence(spec, needle):
    with pytest.raises(perfsim.PerfsimInputError, match=needle):
        apply_transforms(QWEN, [make_transform(spec)])


def test_hybridise_needs_full_attention():
    with pytest.raises(perfsim.PerfsimInputError, match="no full-attention layers to replace"):
        Hybridise("mamba2", 0.5).apply(perfsim.load_model("mamba2-2.7b"))
