"""Accuracy models: measured scores, scaling law, decoding quality, user tables, registry."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfsim
from perfsim.accuracy import (
    AccuracyEstimate,
    AccuracyModel,
    DecodingQuality,
    ReasoningEffort,
    ScalingLaw,
    UserAccuracy,
    chinchilla_loss,
    fit_score_proxy,
    make_accuracy,
    register_accuracy,
    score_from_loss,
)
from perfsim.accuracy.published import load_score_proxies
from perfsim.accuracy.scaling_law import aspect_factor
from perfsim.decoding import BlockDiffusion, Speculative, TiDAR
from perfsim.errors import PerfsimInputError
from perfsim.explore.design import HybridDesign
from perfsim.io.catalog import list_ids

params_st = st.floats(1e7, 1e12)
tokens_st = st.floats(1e9, 1e14)


@given(params_st, params_st, tokens_st)
def test_scaling_law_loss_decreases_with_parameters(n1, n2, tokens):
    """More parameters at the same data never predict a higher loss or a lower score."""
    lo, hi = sorted((n1, n2))
    assert chinchilla_loss(hi, tokens) <= chinchilla_loss(lo, tokens)
    proxy = (13.0, 6.5)
    assert score_from_loss(chinchilla_loss(hi, tokens), proxy, 25.0) >= score_from_loss(
        chinchilla_loss(lo, tokens), proxy, 25.0)


@given(params_st, tokens_st, tokens_st)
def test_scaling_law_loss_decreases_with_tokens(params, t1, t2):
    """More training tokens never predict a higher loss."""
    lo, hi = sorted((t1, t2))
    assert chinchilla_loss(params, hi) <= chinchilla_loss(params, lo)


def test_scaling_law_model_is_monotone_in_width_and_tokens():
    """On whole designs: wider at the same shape ratio and longer training both score higher."""
    law = ScalingLaw(training_tokens=1e11)
    scores = [
        law(HybridDesign(n_layers=16, hidden_size=w, num_heads=16).to_model()).accuracy
        for w in (768, 1024, 1536, 2048)
    ]
    assert scores == sorted(scores) and len(set(scores)) == 4
    model = HybridDesign(n_layers=16, hidden_size=1024).to_model()
    by_tokens = [ScalingLaw(training_tokens=t)(model).accuracy for t in (1e10, 1e11, 1e12)]
    assert by_tokens == sorted(by_tokens)


def test_chinchilla_constants_reproduce_the_paper_fit():
    """Hoffmann et al. eq. 10 at N = 70B, D = 1.4T (Chinchilla itself): about 1.94 nats."""
    assert chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28)
    assert 1.9 < float(chinchilla_loss(70e9, 1.4e12)) < 2.0


def test_aspect_penalty_matches_kaplan_three_percent():
    """(6, 4288) within ~3 % of (48, 1600) (Kaplan et al. Fig. 5); minimum at the optimum."""
    ratio = aspect_factor(4288 / 6) / aspect_factor(1600 / 48) - 1
    assert 0.025 < ratio < 0.035
    assert aspect_factor(64.0) == 1.0 and aspect_factor(20.0) > 1 and aspect_factor(300.0) > 1


def test_operator_mix_moves_loss_in_the_measured_direction():
    """Mamba2 mixers lower and DeltaNet mixers raise the loss versus attention (Nemotron-Flash ablation)."""
    law = ScalingLaw(training_tokens=1e11)
    loss = {
        m: law.loss(HybridDesign(n_layers=12, hidden_size=1024, mixers=m).to_model())
        for m in ("attention", "mamba2", "deltanet")
    }
    # parameter counts differ a little between mixers; the offset must dominate that for mamba2
    assert loss["mamba2"] < loss["attention"]
    override = ScalingLaw(training_tokens=1e11, operator_offsets_nats={"mamba2": 0.5})
    assert (
        override.loss(HybridDesign(n_layers=12, hidden_size=1024, mixers="mamba2").to_model())
        > loss["mamba2"]
    )


@pytest.mark.parametrize("benchmark", ["mmlu", "nemotron_flash_avg"])
def test_stored_score_proxy_is_the_fit_to_bundled_measurements(benchmark):
    """score_proxy.yaml holds what fit_score_proxy gives on the bundled published scores."""
    a, b = fit_score_proxy(list_ids("models"), benchmark)
    stored = load_score_proxies().proxies[benchmark]
    assert (a, b) == pytest.approx((stored.a, stored.b), abs=1e-3)
    assert b > 0  # higher loss, lower score


def test_measured_uses_published_score_and_source():
    est = make_accuracy("measured")(perfsim.load_model("nemotron-flash-1b"))
    assert est.accuracy == 44.6 and "2511.18890" in est.source and est.kind == "measured"
    flash_avg = make_accuracy({"name": "measured", "benchmark": "nemotron_flash_avg"})
    assert flash_avg(perfsim.load_model("nemotron-flash-1b")).accuracy == 49.6
    assert make_accuracy("measured").estimate(perfsim.load_model("gpt-oss-20b")) is None
    unknown = make_accuracy("measured")(perfsim.load_model("gpt-oss-20b"))
    assert math.isnan(unknown.accuracy) and unknown.kind == "unknown"


def test_default_falls_back_to_a_marked_proxy_with_a_band():
    default = make_accuracy(None)
    assert default(perfsim.load_model("qwen3-0.6b")).source.startswith("measured")
    predicted = default(perfsim.load_model("gpt-oss-20b"))
    assert predicted.source == "scaling_law" and predicted.kind == "proxy" and predicted.loss_nats > 1.69
    assert 25 <= predicted.low < predicted.accuracy < predicted.high <= 100  # MMLU chance is 25 %
    rmse = load_score_proxies().proxies["mmlu"].loo_rmse_points
    assert predicted.high - predicted.accuracy == pytest.approx(rmse)


def test_unfitted_benchmark_needs_an_explicit_proxy():
    with pytest.raises(PerfsimInputError, match="no fitted score proxy for benchmark 'gsm8k'"):
        ScalingLaw(benchmark="gsm8k")(perfsim.load_model("qwen3-8b"))
    explicit = ScalingLaw(benchmark="gsm8k", proxy=(10.0, 5.0))(perfsim.load_model("qwen3-8b"))
    assert explicit.kind == "proxy" and explicit.low is None  # no fitted band for a user's mapping


def test_decoding_quality_lossless_and_interpolated():
    quality = DecodingQuality()
    assert quality.factor(Speculative(k=3, acceptance=0.6))[0] == 1.0
    assert quality.factor(None)[0] == 1.0
    low = quality.factor(BlockDiffusion(tokens_per_step=1.0))[0]
    mid = quality.factor(BlockDiffusion(tokens_per_step=1.8))[0]
    high = quality.factor(BlockDiffusion(tokens_per_step=2.6))[0]
    assert low == pytest.approx(38.41 / 41.64) and high == pytest.approx(60.3 / 59.6)
    assert low < mid < high  # linear between the two published points
    assert quality.factor(BlockDiffusion(tokens_per_step=6.0))[0] == high  # clamped, no extrapolation
    assert 0.9 < quality.factor(TiDAR(tokens_per_forward=8.0))[0] < 1.1
    with pytest.raises(PerfsimInputError, match="no published quality points"):
        DecodingQuality(points=()).factor(BlockDiffusion(tokens_per_step=2.0))


def test_reasoning_effort_is_request_level():
    """Longer traces cut requests per second in proportion, whatever the token rate."""
    effort = ReasoningEffort({"low": (1000, 60.0), "high": (4000, 70.0)})
    rates = effort.request_rates(8000.0)
    assert rates["low"] == (8.0, 60.0) and rates["high"] == (2.0, 70.0)
    with pytest.raises(PerfsimInputError, match="effort 'bad'"):
        ReasoningEffort({"bad": (0, 50.0)})


def test_user_callable_and_csv(tmp_path):
    model = perfsim.load_model("qwen3-8b")
    assert make_accuracy(lambda m: 71.5)(model) == AccuracyEstimate(71.5, "user")
    table = tmp_path / "acc.csv"
    table.write_text("design,accuracy,source\nqwen3-8b,76.9,my eval\n")
    assert make_accuracy(str(table))(model) == AccuracyEstimate(76.9, "my eval")
    assert UserAccuracy(table=table).estimate(perfsim.load_model("qwen3-1.7b")) is None
    bad = tmp_path / "bad.csv"
    bad.write_text("design,score\nx,1\n")
    with pytest.raises(PerfsimInputError, match="needs columns design and accuracy"):
        make_accuracy(str(bad))
    with pytest.raises(PerfsimInputError, match="unknown accuracy model 'nope'"):
        make_accuracy("nope")


def test_register_custom_accuracy_model():
    @register_accuracy("constant-test")
    class Constant(AccuracyModel):
        def __init__(self, value: float = 50.0):
            self.value = value

        def estimate(self, model):
            return AccuracyEstimate(self.value, "constant")

    assert (
        make_accuracy({"name": "constant-test", "value": 42.0})(perfsim.load_model("qwen3-8b")).accuracy
        == 42.0
    )
    assert np.isfinite(make_accuracy("scaling_law")(perfsim.load_model("qwen3-8b")).accuracy)
