"""benchmarks/host_fit: public rows map onto perfsim's exact weight formats (AWQ is int4_awq, not
bare int4), vLLM on a Jetson fits its own runtime, and the split modules stay small."""

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def rows():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("host_fit.rows")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize(
    ("csv_value", "fmt"),
    [
        ("awq int4 (awq_marlin)", "int4_awq"),
        ("awq int4", "int4_awq"),
        ("gptq int4 (AutoGPTQ)", "int4_gptq"),
        ("w4a16 (compressed-tensors, Marlin)", "int4_gptq"),
        ("q4f16 (INT4 weight-only)", "int4_gptq"),
        ("q4_K_M (GGUF)", "q4_k_m"),
        ("q4_0", "q4_k"),
        ("q8_0", "q8_0"),
        ("int8 weight-only", "int8"),
        ("int4 weight-only (AWQ/GPTQ not stated)", "int4_gptq"),
    ],
)
def test_weight_formats_are_the_exact_dtypes(rows, csv_value, fmt):
    transforms, _ = rows.weight_transforms(csv_value)
    assert transforms[0] == {"name": "weight_dtype", "dtype": fmt}


def test_assumptions_are_stated_and_unknown_formats_refused(rows):
    assert "Q4_K" in rows.weight_transforms("q4_0")[1]
    with pytest.raises(rows.Unpriceable, match="not stated"):
        rows.weight_transforms("GGUF quant not stated in text read")
    assert rows.weight_transforms("nvfp4 (W4A4)")[0][1] == {"name": "activation_dtype", "dtype": "fp4"}
    assert rows.weight_transforms("bf16") == ([], "")


def test_vllm_on_a_jetson_is_its_own_runtime(rows):
    assert rows.runtime_id({"runtime": "vllm", "gpu": "Jetson AGX Orin"}) == "vllm-jetson"
    assert rows.runtime_id({"runtime": "vllm", "gpu": "L4"}) == "vllm"


@pytest.mark.parametrize(
    ("mode", "profile"),
    [
        ("original (15W, JetPack 6.0)", "jetson-orin-nano-8gb-15w"),
        ("Super (MAXN_SUPER 25W, JetPack 6.1/6.2)", "jetson-orin-nano-8gb-maxn-super"),
        ("25W (nvpmodel -m 1)", "jetson-orin-nano-8gb-25w"),
    ],
)
def test_orin_nano_rows_price_on_their_power_mode(rows, mode, profile):
    assert rows.orin_nano_mode(mode) == profile


def test_modules_stay_small():
    for path in [BENCH / "fit_runtime_host.py", *(BENCH / "host_fit").glob("*.py")]:
        assert len(path.read_text().splitlines()) <= 300, path


def _row(**kw):
    base = {
        "source_url": "https://github.com/tgarg01/silybench-data",
        "runtime": "vllm",
        "gpu": "H100 SXM",
        "power_mode": "",
        "model": "Qwen/Qwen3-8B",
        "weights_dtype": "bf16",
        "kv_dtype": "bf16 (auto)",
        "cuda_graphs": "true (default; no --enforce-eager)",
        "batch": "",
        "concurrency": "1",
        "input_len": "128",
        "output_len": "128",
        "metric": "ttft_p95_ms",
        "value": "14.23",
        "notes": "",
    }
    return {**base, **kw}


def test_api_server_cost_fits_one_source_and_other_sources_only_check_it(rows):
    """vLLM's per-request cost is fitted to S16's concurrency-1 TTFTs; S2's TTFT (the row that
    benchmarks/fidelity_serving.py reports against) is validation; TTFT under load is excluded."""
    assert rows.role(_row()) == ("fit", "")
    assert rows.role(_row(metric="itl_ms", value="6.83")) == ("validate", "")
    assert rows.role(_row(concurrency="4"))[0] == "exclude"
    wmx = _row(source_url="https://ai.wmx.dev/benchmarks", gpu="L4", metric="ttft_ms", value="27.0")
    assert rows.role(wmx) == ("validate", "")


def test_a_server_ttft_row_carries_the_per_request_cost(rows):
    pricing = importlib.import_module("host_fit.pricing")
    p = pricing.price(0, _row())
    t, feats = p.total_s({})
    assert p.kind == "prefill" and p.serving and feats["per_request"] == 1.0
    assert p.total_s({"per_request": 0.01})[0] == pytest.approx(t + 0.01)
    assert any("p95" in a for a in p.assumptions)
    assert 0 < t < p.measured_s  # kernels alone are faster than the served TTFT


def test_vllm_per_request_names_only_its_fit_rows():
    """The bundled value is the script's output and never uses the sweep it is reported against."""
    import yaml

    host = yaml.safe_load((ROOT / "runtimes" / "vllm.yaml").read_text())["host"]
    entry = host["per_request"]
    assert entry["fitted_by"] == "benchmarks/fit_runtime_host.py" and entry["value_s"] > 0
    assert "(S16)" in entry["source"] and "(S2)" not in entry["source"] and "(S1)" not in entry["source"]
