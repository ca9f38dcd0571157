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
