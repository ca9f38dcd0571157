"""AppTest: compare mode. Pin a baseline, change the model: the headline deltas and the
compare table are `perfsim compare`'s numbers, and the baseline travels in the URL."""

from __future__ import annotations

import pytest

import perfsim
from perfsim.dashboard.baseline import restore, snapshot
from perfsim.dashboard.codec import pack, unpack

pytestmark = pytest.mark.dashboard


def _delta(at, label: str) -> str:
    return next(m.proto.delta for m in at.metric if m.label == label)


def test_pinned_baseline_gives_the_deltas_of_perfsim_compare(app, ui):
    at = ui.run(app)
    at = ui.run(at.button(key="pin_baseline").click())
    assert "base" in at.query_params
    at = ui.run(at.selectbox(key="model").select("llama-3.1-8b"))
    table = perfsim.compare("qwen3-8b", "llama-3.1-8b", "h100-sxm", prompt_len=1024, output_len=256)
    ratio = table.set_index("metric")["variant_over_base"]
    assert _delta(at, "TTFT") == f"{(ratio['TTFT at batch 1'] - 1) * 100:+,.1f} % vs baseline"
    assert _delta(at, "TPOT") == f"{(ratio['TPOT at batch 1'] - 1) * 100:+,.1f} % vs baseline"
    shown = at.dataframe[0].value
    assert list(shown["metric"]) == list(table["metric"])
    assert list(shown["gain"]) == [f"{v:,.4g}" for v in table["gain"]]


def test_breakdown_overlays_baseline_and_variant(app, ui):
    at = ui.run(app)
    at.button(key="pin_baseline").click().run()
    at.number_input(key="batch").set_value(4).run()
    at = ui.run(at, tab="Breakdown")
    spec = ui.chart(at, "Latency by operator family")
    phases = {x for t in spec["data"] for x in ui.values(t["x"])}
    assert phases == {"baseline · prefill (TTFT)", "baseline · decode step", "variant · prefill (TTFT)",
                      "variant · decode step"}


def test_a_shared_link_reopens_the_baseline(app, ui):
    at = ui.run(app)
    at.number_input(key="batch").set_value(2).run()
    at.button(key="pin_baseline").click().run()
    link = dict(at.query_params)
    from streamlit.testing.v1 import AppTest

    fresh = AppTest.from_file(str(perfsim.dashboard.APP_PATH), default_timeout=180)
    fresh.query_params.update({**link, "batch": "6"})
    fresh = ui.run(fresh)
    assert any("Baseline: **qwen3-8b on h100-sxm, batch 2" in c.value for c in fresh.sidebar.caption)
    assert _delta(fresh, "TTFT").endswith("% vs baseline")


def test_snapshot_round_trips_an_edited_model():
    from perfsim.dashboard.edits import edit_model
    from perfsim.dashboard.setup import Setup
    from perfsim.decoding import Speculative

    model = edit_model(perfsim.load_model("qwen3-8b"), depth=20, hidden_size=4096, mix="mamba2",
                       mix_share=0.5, weights="bf16", activations="bf16", kv_cache="fp8")
    setup = Setup(model=model, hardware=perfsim.load_hardware("h100-sxm"), batch=3, prompt_len=100,
                  output_len=9, decoding=Speculative(k=3, acceptance=0.6),
                  values={"decoding": "speculative", "spec_k": 3.0, "spec_acc": 0.6})
    back = restore(unpack(pack(snapshot(setup))))
    assert back.model == model and back.hardware.id == "h100-sxm" and back.batch == 3
    assert repr(back.decoding) == repr(setup.decoding)
