"""The frontier's accuracy axis: one named benchmark, published scores first, proxies marked."""

import math

import numpy as np
import pytest

import perfsim
from perfsim.accuracy import DEFAULT_BENCHMARK
from perfsim.accuracy.published import load_published_scores
from perfsim.explore.frontier import evaluate_frontier

#: The bundled models a new user puts on the default frontier (README, dashboard defaults).
DEFAULT_DESIGNS = ["qwen3-0.6b", "qwen3-1.7b", "nemotron-flash-1b", "nemotron-flash-3b", "llama-3.1-8b",
                   "nemotron-nano-9b-v2", "qwen3-8b", "nemotron-h-8b"]


@pytest.fixture(scope="module")
def frame():
    return evaluate_frontier([*DEFAULT_DESIGNS, "gpt-oss-20b", "tiny-hybrid-50m"], "h100-sxm")


def test_default_frontier_orders_bundled_models_as_published(frame):
    """Every bundled model with a published score sits at it, so the frontier ranks them as the
    table does (the issue's case: Nemotron-Nano-9B-v2 above Qwen3-1.7B and Llama-3.1-8B)."""
    table = load_published_scores()
    measured = frame[frame.design.isin(DEFAULT_DESIGNS)].set_index("design")
    published = {d: table.score(d, DEFAULT_BENCHMARK).score for d in DEFAULT_DESIGNS}
    assert (measured.accuracy_kind == "measured").all()
    assert sorted(DEFAULT_DESIGNS, key=measured.accuracy.get) == sorted(DEFAULT_DESIGNS, key=published.get)
    nano = measured.loc["nemotron-nano-9b-v2", "accuracy"]
    assert nano > measured.loc["qwen3-1.7b", "accuracy"] and nano > measured.loc["llama-3.1-8b", "accuracy"]


def test_one_named_benchmark_and_proxies_marked_with_a_band(frame):
    assert set(frame.accuracy_benchmark) == {DEFAULT_BENCHMARK}
    proxies = frame[frame.accuracy_kind == "proxy"]
    assert set(proxies.design) == {"gpt-oss-20b", "tiny-hybrid-50m"}
    assert (proxies.accuracy_low < proxies.accuracy).all()
    assert (proxies.accuracy < proxies.accuracy_high).all()
    measured = frame[frame.accuracy_kind == "measured"]
    assert measured.accuracy_low.isna().all() and measured.accuracy_high.isna().all()
    assert all(s.startswith("measured: http") for s in measured.accuracy_source)


def test_another_named_benchmark_is_used_alone():
    f = evaluate_frontier(["nemotron-flash-1b", "qwen3-0.6b", "qwen3-8b"], "h100-sxm",
                          accuracy={"name": "default", "benchmark": "nemotron_flash_avg"})
    f = f.set_index("design")
    assert f.loc["nemotron-flash-1b", "accuracy"] == 49.6 and f.loc["qwen3-0.6b", "accuracy"] == 44.1
    assert f.loc["qwen3-8b", "accuracy_kind"] == "proxy"  # no suite average published for it
    assert set(f.accuracy_benchmark) == {"nemotron_flash_avg"}


def test_diffusion_quality_scales_the_band_too():
    diffusion = perfsim.decoding.BlockDiffusion(tokens_per_step=1.0)
    ar = evaluate_frontier(["tiny-dense-50m"], "h100-sxm").iloc[0]
    dl = evaluate_frontier(["tiny-dense-50m"], "h100-sxm", decoding=diffusion).iloc[0]
    factor = dl.accuracy / ar.accuracy
    assert factor < 1 and dl.accuracy_high == pytest.approx(ar.accuracy_high * factor)
    assert not math.isnan(dl.accuracy_low) and np.isfinite(dl.accuracy_high)
