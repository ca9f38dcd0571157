import json
import subprocess
import sys

import pytest

import perfsim
from perfsim.io.hf_import import model_from_hf_config


def run(*args):
    return subprocess.run([sys.executable, "-m", "perfsim", *args], capture_output=True, text=True)


def test_list_and_show():
    out = run("list", "hardware")
    assert out.returncode == 0 and "h100-sxm" in out.stdout.split()
    shown = run("show", "llama-3.1-8b")
    assert shown.returncode == 0 and "params: 8030261248" in shown.stdout


def test_predict_json_is_data_on_stdout():
    out = run("predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--batch", "4", "--json")
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)[0]
    assert row["fits"] and row["ttft_s"] > 0 and row["tpot_s"] > 0


@pytest.mark.parametrize("args, needle", [
    (("predict", "-m", "llama-2-7b", "-h", "h100-sxm", "--batch", "128", "--prompt-len", "1024",
      "--output-len", "1024"), "does not fit"),
    (("predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--batch", "0"), "--batch must be an integer from 1 to"),
    (("predict", "-m", "qwen3-8b", "-h", "nope"), "unknown hardware profile 'nope'"),
    (("predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--prompt-len", "50000"), "exceeds max_context_len"),
    (("simulate", "-m", "qwen3-0.6b", "-h", "l4", "--num-requests", "4", "--scheduler", "guaranteed_no_evict",
      "--kv-cache-free-fraction", "1.5"), "--kv-cache-free-fraction must be a number above 0 and at most 1"),
])
def test_bad_input_is_one_sentence_without_traceback(args, needle):
    out = run(*args)
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_simulate_with_tensorrt_llm_scheduling():
    out = run("simulate", "-m", "qwen3-0.6b", "-h", "l4", "--workload", "closed_loop", "--concurrency", "64",
              "--num-requests", "128", "--scheduler", "guaranteed_no_evict",
              "--kv-cache-free-fraction", "0.1", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["requests_completed"] == 128 and summary["preemptions"] == 0


def test_core_import_does_not_pull_heavy_extras():
    code = "import sys, perfsim; print(sorted({'torch','streamlit','plotly','ray'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


LLAMA_CONFIG = {
    "model_type": "llama", "_name_or_path": "meta-llama/Llama-3.1-8B", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
    "num_hidden_layers": 32, "vocab_size": 128256, "max_position_embeddings": 131072,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def test_hf_import_matches_bundled_description(llama8b):
    imported = model_from_hf_config(LLAMA_CONFIG)
    assert perfsim.model_params(imported).total == perfsim.model_params(llama8b).total


def test_hf_import_cli_roundtrip(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(LLAMA_CONFIG))
    out_yaml = tmp_path / "llama.yaml"
    assert run("import-hf", str(cfg), "-o", str(out_yaml)).returncode == 0
    assert perfsim.model_params(perfsim.load_model(out_yaml)).total == pytest.approx(8.03e9, rel=1e-3)
    assert perfsim.model_params(perfsim.load_model(cfg)).total == pytest.approx(8.03e9, rel=1e-3)


def test_hf_import_rejects_unsupported_family():
    with pytest.raises(perfsim.PerfsimInputError, match="model_type' is 'bert'; supported"):
        model_from_hf_config({"model_type": "bert", "hidden_size": 8, "vocab_size": 8})
