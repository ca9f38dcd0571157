"""A per-runtime calibration round-trips through the profile writer, leaves every datasheet field
and every other runtime alone, and is applied only when that runtime is selected."""

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from perfsim.calibration.writer import replace_calibration, with_runtime_calibrations
from perfsim.ops import Gemm
from perfsim.spec.hardware import Calibration, HardwareProfile, RuntimeCalibration

#: The bundled H100 profile without its calibration block (priors only).
BASE_TEXT = replace_calibration((Path(__file__).parents[2] / "hwprofiles" / "h100-sxm.yaml").read_text(),
                                Calibration())
DATASHEET = ("compute", "memory", "interconnect", "power", "sources", "provenance", "efficiency")


def _load(text: str) -> HardwareProfile:
    return HardwareProfile.model_validate(yaml.safe_load(text))


@given(st.floats(0.3, 1.0), st.floats(1e-6, 2e-5))
def test_round_trip_keeps_datasheet_and_selects_by_runtime(e_max, t_fixed_s):
    text = BASE_TEXT
    fitted = {"gemm.e_max.bf16": e_max, "gemm.t_fixed_s": t_fixed_s}
    vllm = RuntimeCalibration(source="synthetic", fitted=fitted,
                              fit_quality={"gemm_bf16": {"n_test": 10.0, "median_abs_err_fitted": 0.05}})
    written = with_runtime_calibrations(text, {"vllm": vllm})
    base, profile = _load(text), _load(written)
    head = text[:text.index("\ncalibration:")]
    assert written.startswith(head), "nothing before the calibration block changes"
    for section in DATASHEET:
        assert getattr(profile, section) == getattr(base, section), section
    assert profile.calibration.runtimes["vllm"] == vllm
    assert profile.efficiency_in_use == base.efficiency_in_use, "no runtime selected: priors"
    assert profile.for_runtime("sglang") is profile
    chosen = profile.for_runtime("vllm")
    assert chosen.efficiency_in_use.gemm.e_max["bf16"] == e_max
    assert chosen.efficiency_in_use.gemm.t_fixed_s == t_fixed_s
    assert profile.efficiency_in_use.gemm.e_max["bf16"] == base.efficiency_in_use.gemm.e_max["bf16"]
    big = Gemm(8192.0, 8192.0, 8192.0)
    assert float(big.time(chosen)) != float(big.time(profile)) or e_max == base.efficiency.gemm.e_max["bf16"]


def test_a_second_runtime_is_added_beside_the_first():
    one = with_runtime_calibrations(BASE_TEXT, {"vllm": RuntimeCalibration(source="a", fitted={})})
    two = with_runtime_calibrations(one, {"sglang": RuntimeCalibration(
        source="b", fitted={"attention.decode_item_s": 2e-8})})
    profile = _load(two)
    assert set(profile.calibration.runtimes) == {"vllm", "sglang"}
    assert profile.for_runtime("sglang").efficiency_in_use.attention.decode_item_s == 2e-8


def test_a_runtime_calibration_naming_no_field_is_refused():
    data = yaml.safe_load(BASE_TEXT)
    data["calibration"]["runtimes"] = {"vllm": {"source": "x", "fitted": {"gemm.no_such_field": 1.0}}}
    try:
        HardwareProfile.model_validate(data)
    except ValueError as exc:
        assert "does not name an efficiency field" in str(exc)
    else:
        raise AssertionError("an unknown calibration path was accepted")
