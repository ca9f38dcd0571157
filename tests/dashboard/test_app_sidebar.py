"""AppTest: the sidebar what-if, the headline metrics and the Overview tab against the library;
URL sharing, uploads and every kind of bad input shown as a sentence, never a traceback."""

from __future__ import annotations

import json

import pytest
import yaml

import perfsim
from perfsim.dashboard.fmt import headline_time
from perfsim.decoding import Speculative
from perfsim.io.hf_import import model_from_hf_config

pytestmark = pytest.mark.dashboard

LLAMA_CONFIG = {
    "model_type": "llama", "_name_or_path": "meta-llama/Llama-3.1-8B", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
    "num_hidden_layers": 32, "vocab_size": 128256, "max_position_embeddings": 131072,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def _shown(at, needle: str) -> int:
    """How many messages on the whole page (sidebar and main) contain `needle`."""
    return sum(needle in m.value for kind in ("error", "warning", "info") for m in at.get(kind))


def assert_headline(ui, at, result: perfsim.RequestResult) -> None:
    """The four headline metrics show the library's numbers, in ms, tok/s and GB."""
    assert ui.metric(at, "TTFT") == headline_time(result.ttft_s)
    assert ui.metric(at, "TPOT") == headline_time(result.tpot_s)
    rate = result.tokens_per_s
    assert ui.metric(at, "Throughput") == (f"{rate:,.1f} tok/s" if rate < 100 else f"{rate:,.0f} tok/s")
    label = f"Memory (of {result.memory.usable_bytes / 1e9:,.2f} GB)"
    assert ui.metric(at, label) == f"{result.memory.total_bytes / 1e9:,.2f} GB"


def test_dashboard_package_is_this_checkout():
    """Tests drive the repository's dashboard, not some other installed package of that name."""
    import pathlib

    import perfsim.dashboard

    assert perfsim.dashboard.APP_PATH == pathlib.Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def test_default_what_if_matches_the_library(app, ui):
    """qwen3-8b on h100-sxm, batch 1, 1024 -> 256 tokens: headline and Overview numbers and the
    memory-fit bar equal perfsim.generate / perfsim.cost.memory."""
    at = ui.run(app)
    result = perfsim.generate("qwen3-8b", "h100-sxm", 1, 1024, 256)
    assert_headline(ui, at, result)
    assert ui.metric(at, "End-to-end latency") == f"{result.e2e_s:,.3f} s"
    assert ui.metric(at, "Max batch at this context") == f"{result.memory.max_batch:,}"
    params = perfsim.model_params(perfsim.load_model("qwen3-8b")).total
    assert ui.metric(at, "Parameters") == f"{params / 1e9:,.2f} B"
    parts = ui.memory_parts(at)
    assert sum(parts.values()) == pytest.approx(result.memory.total_bytes / 1e9, rel=1e-6)
    assert parts["KV cache"] == pytest.approx(result.memory.kv_cache_bytes / 1e9, rel=1e-6)
    assert any("it fits" in s.value for s in at.success)


def test_changed_model_batch_dtype_and_device(app, ui):
    """Another model, batch, KV dtype and bandwidth: numbers equal the library's for the same
    description (built here independently of the dashboard's edit code)."""
    at = ui.run(app)
    at.selectbox(key="model").select("llama-3.1-8b").run()
    at.number_input(key="batch").set_value(8).run()
    at.selectbox(key="kv_dtype").select("fp8").run()
    at = ui.run(at.number_input(key="hw_bw").set_value(2.0))
    base = perfsim.load_model("llama-3.1-8b")
    model = base.model_copy(update={"dtypes": base.dtypes.model_copy(update={"kv_cache": "fp8"})})
    data = perfsim.load_hardware("h100-sxm").model_dump()
    data["memory"]["peak_bw_bytes_per_s"] = 2e12
    hw = perfsim.HardwareProfile.model_validate(data)
    assert_headline(ui, at, perfsim.generate(model, hw, 8, 1024, 256))
    assert "llama-3.1-8b[wbf16-abf16-kvfp8]" in at.caption[0].value


def test_depth_edit_matches_a_shallower_model(app, ui):
    at = ui.run(app)
    at = ui.run(at.number_input(key="depth").set_value(18))
    data = perfsim.load_model("qwen3-8b").model_dump()
    data["blocks"] = [{"ops": ["attn", "mlp"], "repeat": 18}]
    data["published_params"] = None
    shallow = perfsim.ModelSpec.model_validate(data)
    assert_headline(ui, at, perfsim.generate(shallow, "h100-sxm", 1, 1024, 256))


def test_url_restores_a_shared_what_if_and_mirrors_changes(app, ui):
    """Opening a shared link reproduces the what-if; editing a field updates the link."""
    app.query_params.update({"model": "qwen3-1.7b", "batch": "4", "decoding": "speculative", "spec_k": "3"})
    at = ui.run(app)
    strategy = Speculative(k=3, acceptance=0.7, draft="eagle")
    assert_headline(ui, at, perfsim.generate("qwen3-1.7b", "h100-sxm", 4, 1024, 256, strategy))
    at = ui.run(at.number_input(key="prompt").set_value(2048))
    assert dict(at.query_params) == {"model": "qwen3-1.7b", "batch": "4", "prompt": "2048",
                                     "decoding": "speculative", "spec_k": "3"}


def test_changing_the_preset_resets_its_edit_fields(app, ui):
    at = ui.run(app)
    at.number_input(key="depth").set_value(10).run()
    at = ui.run(at.selectbox(key="model").select("llama-2-7b"))
    assert at.number_input(key="depth").value == 32 and at.number_input(key="hidden").value == 4096


@pytest.mark.parametrize("field, value, needle", [
    ("batch", 0, "Batch must be at least 1 (got 0)."),
    ("prompt", 0, "Prompt tokens must be at least 1 (got 0)."),
    ("prompt", 40_800, "is beyond the 40,960-token context limit (max_context_len) of qwen3-8b"),
])
def test_bad_field_shows_a_sentence_next_to_it(app, ui, field, value, needle):
    """One sentence, shown once (under the field); the main area only names the field."""
    at = ui.run(app)
    at = ui.run(at.number_input(key=field).set_value(value))
    assert any(needle in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert not at.metric  # nothing computed from a bad what-if
    assert _shown(at, needle) == 1
    label = {"batch": "Batch", "prompt": "Prompt tokens"}[field] if value == 0 else "Output tokens"
    assert any(label in w.value for w in at.main.warning)


def test_model_that_does_not_fit_shows_the_librarys_memory_sentence(app, ui):
    app.query_params.update({"model": "llama-2-7b", "batch": "256", "output": "3072"})
    at = ui.run(app)
    with pytest.raises(perfsim.PerfsimInputError) as exc:
        perfsim.generate("llama-2-7b", "h100-sxm", 256, 1024, 3072)
    assert "does not fit" in str(exc.value)
    assert [e.value for e in at.main.error] == [str(exc.value)]  # once, above the tabs
    assert not [m for m in at.metric if m.label == "TTFT"]
    report = perfsim.memory("llama-2-7b", "h100-sxm", 256, 4096)
    assert ui.metric(at, "Max batch at this context") == f"{report.max_batch:,}"
    assert sum(ui.memory_parts(at).values()) == pytest.approx(report.total_bytes / 1e9, rel=1e-6)


def test_bad_url_value_is_ignored_with_a_warning(app, ui):
    app.query_params.update({"batch": "lots", "model": "no-such-model"})
    at = ui.run(app)
    notes = " ".join(w.value for w in at.sidebar.warning)
    assert "batch='lots' is not a number" in notes and "no-such-model" in notes
    default = perfsim.generate("qwen3-8b", "h100-sxm", 1, 1024, 256)
    assert ui.metric(at, "TTFT") == headline_time(default.ttft_s)


def test_uploaded_hf_config_is_predicted_like_the_library(app, ui):
    at = ui.run(app)
    at = ui.run(at.selectbox(key="model").select("(upload a file)"))
    assert at.sidebar.error  # asks for a file
    payload = json.dumps(LLAMA_CONFIG).encode()
    at = ui.run(at.file_uploader(key="model_file").upload("config.json", payload, "application/json"))
    model = model_from_hf_config(LLAMA_CONFIG, source="config.json")
    assert_headline(ui, at, perfsim.generate(model, "h100-sxm", 1, 1024, 256))


def test_uploaded_calibrated_profile_runs_with_or_without_its_calibration(app, ui):
    """A profile written by `perfsim calibrate` is used as fitted, or with its documented priors."""
    data = perfsim.load_hardware("h100-sxm").model_dump(mode="json")
    # a device-level fit on top of the bundled per-runtime calibrations (which unchecking keeps)
    data["calibration"] = {**data["calibration"], "calibrated": True,
                           "fitted": {"gemm.e_bw": 0.5, "memory.e_bw": 0.6}}
    calibrated = perfsim.HardwareProfile.model_validate(data)
    at = ui.run(app)
    at = ui.run(at.selectbox(key="hw").select("(upload a file)"))
    at = ui.run(at.file_uploader(key="hw_file").upload("h100-cal.yaml", yaml.safe_dump(data).encode()))
    assert at.checkbox(key="hw_cal").value is True
    assert_headline(ui, at, perfsim.generate("qwen3-8b", calibrated, 1, 1024, 256))
    at = ui.run(at.checkbox(key="hw_cal").uncheck())
    assert_headline(ui, at, perfsim.generate("qwen3-8b", "h100-sxm", 1, 1024, 256))


def test_calibration_toggle_follows_the_profile(app, ui):
    """Only a profile with a calibration block offers it (bundled profiles are uncalibrated priors
    until `perfsim calibrate` runs on the device)."""
    at = ui.run(app)
    calibrated = perfsim.load_hardware("h100-sxm").calibration.calibrated
    toggle = at.checkbox(key="hw_cal")
    assert toggle.value is calibrated and toggle.disabled is not calibrated


def test_malformed_upload_is_one_sentence(app, ui):
    at = ui.run(app)
    at = ui.run(at.selectbox(key="model").select("(upload a file)"))
    upload = at.file_uploader(key="model_file").upload("mine.yaml", b"id: [unclosed", "application/x-yaml")
    at = ui.run(upload)
    assert [e.value for e in at.sidebar.error] == ["mine.yaml: malformed YAML at line 1, column 14."]


@pytest.mark.parametrize("query, needle", [
    ({"decoding": "tidar", "tidar_tpf": "0.5"}, "tokens_per_forward (T/NFE) must be in 1..17 (got 0.5)."),
    ({"decoding": "speculative", "spec_draft": "llama-3.1-8b"}, "they must match."),
    ({"decoding": "block_diffusion", "diff_sub": "64"}, "need 1 <= sub_block_size <= block_size"),
])
def test_bad_decoding_parameters_show_the_librarys_sentence(app, ui, query, needle):
    app.query_params.update(query)
    at = ui.run(app)
    assert any(needle in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]


def test_device_without_the_models_dtype_is_refused_next_to_the_dtype(app, ui):
    app.query_params.update({"hw": "a10g", "w_dtype": "fp8", "a_dtype": "fp8"})
    at = ui.run(app)
    peaks = ", ".join(perfsim.load_hardware("a10g").compute.peak_dense_flops_per_s)
    assert [e.value for e in at.sidebar.error] == [
        f"a10g has no fp8 tensor-core peak (it lists {peaks}); pick weight and activation dtypes among "
        "those, or another device."]
    assert not at.metric


@pytest.mark.parametrize("field, value, sentence", [
    ("batch", -3, "Batch must be at least 1 (got -3)."),
    ("batch", 2.5, "Batch must be a whole number (got 2.5)."),
    ("output", 0, "Output tokens must be at least 1 (got 0)."),
    ("hidden", 100, "Hidden size must be a multiple of 64 (got 100)."),
    ("depth", 0.5, "Depth must be a whole number (got 0.5)."),
])
def test_bad_value_is_neither_clamped_nor_rounded(app, ui, field, value, sentence):
    """The widget has no browser-side bounds: Python sees the value and says why it is refused,
    once, while nothing is computed from it (no stale results)."""
    at = ui.run(app)
    at = ui.run(at.number_input(key=field).set_value(value))
    assert [e.value for e in at.sidebar.error] == [sentence]
    assert _shown(at, sentence) == 1
    assert not at.metric


def test_every_problem_of_an_uploaded_file_is_listed(app, ui):
    data = perfsim.load_model("qwen3-8b").model_dump(mode="json")
    for i in range(8):
        data[f"unknown_{i}"] = i
    data["hidden_size"] = -1
    at = ui.run(app)
    at = ui.run(at.selectbox(key="model").select("(upload a file)"))
    at = ui.run(at.file_uploader(key="model_file").upload("mine.yaml", yaml.safe_dump(data).encode()))
    (message,) = [e.value for e in at.sidebar.error]
    assert message.startswith("mine.yaml has 9 problems: (1) field") and "(9) field" in message
    assert all(f"unknown_{i}" in message for i in range(8)) and "hidden_size" in message


def test_an_uploaded_model_travels_in_the_url(app, ui):
    """A shared link opens the uploaded model, not an empty upload prompt."""
    at = ui.run(app)
    at = ui.run(at.selectbox(key="model").select("(upload a file)"))
    at = ui.run(at.file_uploader(key="model_file").upload("config.json", json.dumps(LLAMA_CONFIG).encode(),
                                                          "application/json"))
    link = dict(at.query_params)
    assert link["model"] == "(upload a file)" and link["model_spec"]
    from streamlit.testing.v1 import AppTest

    import perfsim.dashboard

    fresh = AppTest.from_file(str(perfsim.dashboard.APP_PATH), default_timeout=180)
    fresh.query_params.update(link)
    fresh = ui.run(fresh)
    assert not fresh.sidebar.error
    model = model_from_hf_config(LLAMA_CONFIG, source="config.json")
    assert_headline(ui, fresh, perfsim.generate(model, "h100-sxm", 1, 1024, 256))


def test_tab_controls_survive_switching_tabs(app, ui):
    at = ui.run(app, tab="Sweep")
    at = ui.run(at.selectbox(key="sweep_metric").select("Memory (GB)"))
    at = ui.run(at, tab="Serving")
    at = ui.run(at.number_input(key="srv_requests").set_value(50))
    at = ui.run(at, tab="Sweep")
    assert at.selectbox(key="sweep_metric").value == "Memory (GB)"
    assert ui.chart(at, "Memory (GB) over batch × context")
    at = ui.run(at, tab="Serving")
    assert at.number_input(key="srv_requests").value == 50
    # the link holds every tab's changed controls, also those of tabs now closed
    assert at.query_params["sweep_metric"] == "Memory (GB)" and at.query_params["srv_requests"] == "50"
