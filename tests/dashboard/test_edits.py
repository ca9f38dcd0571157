"""What-if edits produce valid library objects with exactly the requested change."""

from __future__ import annotations

import pytest

import perfsim
from perfsim.dashboard.edits import edit_hardware, edit_model, layer_groups, with_depth, with_mix, with_width
from perfsim.spec.model import AttentionSpec, Mamba2Spec


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
