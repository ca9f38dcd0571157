"""What-if edits produce valid library objects with exactly the requested change."""

from __future__ import annotations

import pytest

import perfsim
from perfsim.dashboard.edits import (
    MIX_CHOICES,
    edit_hardware,
    edit_model,
    layer_groups,
    with_depth,
    with_mix,
    with_width,
)
from perfsim.spec.model import AttentionSpec, Mamba2Spec
from perfsim.transforms import (
    Depth,
    Hybridise,
    KVCacheDType,
    WeightDType,
    Width,
    apply_transforms,
    num_layers,
    replacement,
)


def test_depth_resamples_a_hybrid_evenly():
    """Halving Nemotron-H keeps Mamba and attention layers in proportion, not just the first half."""
    model = perfsim.load_model("nemotron-h-8b")
    half = with_depth(model, 14)
    kinds = [model.operators[g[0]].type for g in layer_groups(half)]
    assert len(kinds) == 14 == half.num_mixer_layers
    assert kinds.count("attention") == 2 and kinds.count("mamba2") == 12
    assert half.published_params is None  # the published count belonged to the original


def test_width_scales_heads_and_ffn_but_keeps_head_size():
    model = perfsim.load_model("qwen3-8b")
    narrow = with_width(model, 2048)
    attn, mlp = narrow.operators["attn"], narrow.operators["mlp"]
    assert (attn.num_heads, attn.num_kv_heads, attn.head_dim) == (16, 4, 128)
    assert mlp.intermediate_size == 6144 and narrow.hidden_size == 2048


def test_mix_replaces_the_requested_share_of_attention():
    model = perfsim.load_model("qwen3-8b")
    hybrid = with_mix(model, "mamba2", 0.75)
    mixers = [s for s in hybrid.sublayers if isinstance(s, AttentionSpec | Mamba2Spec)]
    assert sum(isinstance(s, AttentionSpec) for s in mixers) == 9
    assert sum(isinstance(s, Mamba2Spec) for s in mixers) == 27


def test_mix_needs_attention_layers():
    with pytest.raises(perfsim.PerfsimInputError, match="no full-attention layers"):
        with_mix(perfsim.load_model("mamba2-2.7b"), "gated_deltanet", 0.5)


def test_unchanged_edit_returns_the_same_model():
    model = perfsim.load_model("qwen3-8b")
    same = edit_model(model, depth=36, hidden_size=4096, mix="none", mix_share=0.5, weights="bf16",
                      activations="bf16", kv_cache="bf16")
    assert same is model


def test_edited_model_is_named_after_its_edits():
    model = perfsim.load_model("qwen3-8b")
    edited = edit_model(model, depth=18, hidden_size=4096, mix="none", mix_share=0.0, weights="fp8",
                        activations="bf16", kv_cache="fp8")
    assert edited.id == "qwen3-8b[18L,wfp8-abf16-kvfp8]"
    assert edited.dtypes.weights == "fp8" and edited.num_mixer_layers == 18


def test_dashboard_counts_layers_as_the_transforms_do():
    """Puzzle's linear stand-ins are layers too (the dashboard used to count 54 here)."""
    model = perfsim.load_model("llama-3.1-nemotron-51b")
    assert len(layer_groups(model)) == num_layers(model) == 72
    assert edit_model(model, depth=72, hidden_size=model.hidden_size, mix="none", mix_share=0,
                      weights="bf16", activations="bf16", kv_cache="bf16") is model


def test_dashboard_edit_is_the_transforms_output():
    model = perfsim.load_model("qwen3-8b")
    edited = edit_model(model, depth=18, hidden_size=2048, mix="mamba2", mix_share=0.5, weights="fp8",
                        activations="bf16", kv_cache="fp8")
    steps = [Hybridise("mamba2", 0.5), Depth(18), Width(2048), WeightDType("fp8"), KVCacheDType("fp8")]
    expected = apply_transforms(model, steps, id=edited.id, display_name=edited.display_name)
    assert edited == expected
    assert edited.applied_transforms == ["hybridise(kind=mamba2, share=0.5)", "depth(num_layers=18)",
                                         "width(hidden_size=2048)", "weight_dtype(dtype=fp8)",
                                         "kv_cache_dtype(dtype=fp8)"]
    assert edited.id == "qwen3-8b[50%mamba2,18L,h2048,wfp8-abf16-kvfp8]"


@pytest.mark.parametrize("kind", [k for k in MIX_CHOICES if k != "none"])
def test_mix_uses_the_shared_replacement_recipe(kind):
    model = perfsim.load_model("qwen3-8b")
    new = {s for s in with_mix(model, kind, 1.0).sublayers if s != model.operators["mlp"]}
    assert new == {replacement(kind, model.operators["attn"], model.hidden_size, model.max_context_len)}


def test_dtype_edit_keeps_published_params():
    model = perfsim.load_model("qwen3-8b")
    edited = edit_model(model, depth=36, hidden_size=4096, mix="none", mix_share=0, weights="fp8",
                        activations="fp8", kv_cache="bf16")
    assert edited.published_params == model.published_params and edited.id == "qwen3-8b[wfp8-afp8-kvbf16]"


def test_hardware_edit_scales_every_peak_and_usable_memory():
    hw = perfsim.load_hardware("h100-sxm")
    edited = edit_hardware(hw, peak_bf16_flops=2 * hw.peak_flops("bf16"), bandwidth=5e12,
                           capacity_bytes=2 * hw.memory.capacity_bytes, calibrated=False)
    assert edited.peak_flops("fp8") == pytest.approx(2 * hw.peak_flops("fp8"))
    assert edited.memory.usable_bytes == pytest.approx(2 * hw.memory.usable_bytes)
    assert edited.memory.peak_bw_bytes_per_s == 5e12 and edited.id == "h100-sxm-edited"
    assert edited.provenance["memory.peak_bw_bytes_per_s"].startswith("derived:")


def test_hardware_edit_can_drop_the_calibration():
    hw = perfsim.load_hardware("h100-sxm")
    data = hw.model_dump()
    data["calibration"] = {"calibrated": True, "fitted": {"gemm.e_bw": 0.5}}
    calibrated = perfsim.HardwareProfile.model_validate(data)
    plain = edit_hardware(calibrated, peak_bf16_flops=hw.peak_flops("bf16"),
                          bandwidth=hw.memory.peak_bw_bytes_per_s,
                          capacity_bytes=hw.memory.capacity_bytes, calibrated=False)
    assert not plain.calibration.calibrated
    assert plain.efficiency_in_use.gemm.e_bw == hw.efficiency.gemm.e_bw
