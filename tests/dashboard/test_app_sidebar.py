"""AppTest: the sidebar what-if, the headline metrics and the Overview tab against the library;
URL sharing, uploads and every kind of bad input shown as a sentence, never a traceback."""

from __future__ import annotations

import json

import pytest
import yaml

import perfsim
from perfsim.decoding import Speculative
from perfsim.io.hf_import import model_from_hf_config

pytestmark = pytest.mark.dashboard

LLAMA_CONFIG = {
    "model_type": "llama", "_name_or_path": "meta-llama/Llama-3.1-8B", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
    "num_hidden_layers": 32, "vocab_size": 128256, "max_position_embeddings": 131072,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def assert_headline(ui, at, result: perfsim.RequestResult) -> None:
    """The four headline metrics show the library's numbers, in ms, tok/s and GB."""
    assert ui.metric(at, "TTFT") == f"{result.ttft_s * 1e3:,.2f} ms"
    assert ui.metric(at, "TPOT") == f"{result.tpot_s * 1e3:,.2f} ms"
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
    bars = ui.chart(at, "Memory fit")["data"]
    total = sum(float(ui.values(t["x"])[0]) for t in bars if t["type"] == "bar")
    assert total == pytest.approx(result.memory.total_bytes / 1e9, rel=1e-9)
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
    at = ui.run(app)
    at = ui.run(at.number_input(key=field).set_value(value))
    assert any(needle in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert not at.metric  # nothing computed from a bad what-if
    assert any(needle in w.value for w in at.warning)


def test_model_that_does_not_fit_shows_the_librarys_memory_sentence(app, ui):
    app.query_params.update({"model": "llama-2-7b", "batch": "64", "output": "1024"})
    at = ui.run(app)
    with pytest.raises(perfsim.PerfsimInputError) as exc:
        perfsim.generate("llama-2-7b", "h100-sxm", 64, 1024, 1024)
    assert "does not fit" in str(exc.value)
    assert [e.value for e in at.main.error] == [str(exc.value)]  # once, above the tabs
    assert not [m for m in at.metric if m.label == "TTFT"]
    report = perfsim.memory("llama-2-7b", "h100-sxm", 64, 2048)
    assert ui.metric(at, "Max batch at this context") == f"{report.max_batch:,}"
    bars = ui.chart(at, "Memory fit")["data"]
    assert sum(float(ui.values(t["x"])[0]) for t in bars) == pytest.approx(report.total_bytes / 1e9)


def test_bad_url_value_is_ignored_with_a_warning(app, ui):
    app.query_params.update({"batch": "lots", "model": "no-such-model"})
    at = ui.run(app)
    notes = " ".join(w.value for w in at.sidebar.warning)
    assert "batch='lots' is not a int" in notes and "no-such-model" in notes
    default = perfsim.generate("qwen3-8b", "h100-sxm", 1, 1024, 256)
    assert ui.metric(at, "TTFT") == f"{default.ttft_s * 1e3:,.2f} ms"


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
    data["calibration"] = {"calibrated": True, "fitted": {"gemm.e_bw": 0.5, "memory.e_bw": 0.6}}
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
    with pytest.raises(ValueError) as exc:
        perfsim.load_hardware("a10g").peak_flops("fp8")
    assert any(str(exc.value) in e.value for e in at.sidebar.error)
    assert not at.metric


def test_downloads_carry_the_config_and_results(app, ui):
    from perfsim.dashboard.sidebar import Setup, payload
    from perfsim.decoding import Autoregressive

    app.query_params.update({"batch": "2"})
    at = ui.run(app)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download configuration + results (JSON)", "Download model (perfsim YAML)"]
    setup = Setup(model=perfsim.load_model("qwen3-8b"), hardware=perfsim.load_hardware("h100-sxm"), batch=2,
                  prompt_len=1024, output_len=256, decoding=Autoregressive(), values={"batch": 2})
    result = perfsim.generate("qwen3-8b", "h100-sxm", 2, 1024, 256)
    data = json.loads(payload(setup, result))
    assert data["config"] == {"batch": 2} and data["results"]["ttft_s"] == result.ttft_s
    assert data["model"] == "qwen3-8b" and data["decoding"] == "autoregressive"
