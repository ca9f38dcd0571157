"""Vision-language prefill: token counts, pre-LLM and in-LLM reduction, encoder re-runs."""

import pytest

import perfsim
from perfsim.cost.vision import encoder_time, vision_params, vlm_ttft

VL = perfsim.load_model("nemotron-nano-12b-v2-vl")


def test_tokens_per_frame_and_encoder_size():
    assert VL.vision.patches_per_tile == 1024 and VL.vision.tokens_per_tile == 256
    assert 0.6e9 < vision_params(VL.vision, VL.hidden_size) < 0.7e9  # RADIO ViT-H/16 + projector


def test_encoder_time_scales_with_frames_and_measured_constant_overrides(h100, write_yaml):
    one, many = encoder_time(VL, h100, 8), encoder_time(VL, h100, 128)
    assert 10 < many / one <= 16.5
    data = VL.model_dump(mode="json", exclude_none=True)
    data["vision"]["measured_s_per_tile"] = 0.002
    assert encoder_time(perfsim.load_model(write_yaml(data)), h100, 100) == pytest.approx(0.2)


def test_evs_keeps_first_frame_and_shrinks_llm_prefill(h100):
    full = vlm_ttft(VL, h100, frames=64, text_tokens=100)
    pruned = vlm_ttft(VL, h100, frames=64, text_tokens=100, keep_before_llm=0.25)
    assert full.llm_visual_tokens == 64 * 256
    assert pruned.llm_visual_tokens == 256 + round(63 * 256 * 0.25)
    assert pruned.encoder_s == full.encoder_s  # EVS prunes after the encoder
    assert pruned.llm_prefill_s < 0.4 * full.llm_prefill_s
    assert full.ttft_s == pytest.approx(full.host_s + full.encoder_s + full.llm_prefill_s)


def test_encoder_reruns_per_chunk_without_embedding_cache(h100):
    cached = vlm_ttft(VL, h100, frames=128, chunk_tokens=8192)
    rerun = vlm_ttft(VL, h100, frames=128, chunk_tokens=8192, encoder_per_chunk=True)
    assert cached.chunks == rerun.chunks == 4 and rerun.encoder_runs == 4
    assert rerun.encoder_s == pytest.approx(4 * cached.encoder_s)


def test_progressive_in_llm_reduction(h100):
    """Low-to-high progressive schedules cost less the earlier and harder they cut."""
    whole = dict(runtime=None)  # one whole-prompt forward, so the schedules compare like for like
    base = vlm_ttft(VL, h100, frames=64, text_tokens=64, **whole)
    late = vlm_ttft(VL, h100, frames=64, text_tokens=64, keep_schedule={24: 0.25}, **whole)
    early = vlm_ttft(VL, h100, frames=64, text_tokens=64, keep_schedule={4: 0.5, 10: 0.25}, **whole)
    assert base.llm_prefill_s > late.llm_prefill_s > early.llm_prefill_s
    none = vlm_ttft(VL, h100, frames=64, text_tokens=64, keep_schedule={0: 1.0}, **whole)
    assert none.llm_prefill_s == pytest.approx(base.llm_prefill_s, rel=0.02)


def test_host_time_is_added(h100):
    assert vlm_ttft(VL, h100, frames=4, host_s=1.5).ttft_s == pytest.approx(
        1.5 + vlm_ttft(VL, h100, frames=4).ttft_s)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(frames=0), "frames must be a positive integer"),
    (dict(frames=4, keep_before_llm=0), r"keep_before_llm must be in \(0, 1\]"),
    (dict(frames=4, keep_schedule={0: 0.5, 10: 0.9}), "non-increasing fractions"),
    (dict(frames=4, keep_schedule={999: 0.5}), "layer indices 0..33"),
    (dict(frames=4, host_s=-1), "host_s must be >= 0"),
    (dict(frames=1000), "exceed max_context_len"),
])
def test_bad_vision_input_is_one_sentence(h100, kwargs, needle):
    with pytest.raises(perfsim.PerfsimInputError, match=needle):
        vlm_ttft(VL, h100, **kwargs)


def test_model_without_vision_encoder(h100):
    with pytest.raises(perfsim.PerfsimInputError, match="has no vision encoder"):
        vlm_ttft("llama-3.1-8b", h100, frames=1)


def test_keep_everything_schedule_is_the_predictors_whole_prompt_prefill():
    """The in-LLM reduction path composes its step with the predictor's LaunchModel."""
    whole = vlm_ttft(VL, "h100-sxm", frames=8, text_tokens=50, runtime=None)
    kept = vlm_ttft(VL, "h100-sxm", frames=8, text_tokens=50, keep_schedule={0: 1.0}, runtime=None)
    assert kept.llm_prefill_s == pytest.approx(whole.llm_prefill_s, rel=1e-12)
