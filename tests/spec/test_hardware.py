import copy

import pytest
import yaml

import perfsim
from perfsim.io.catalog import bundled_dir, list_ids

REQUIRED = ["h100-sxm", "h100-pcie", "h200-sxm", "a100-sxm-80gb", "a10g", "l4", "l40s", "rtx-4090",
            "b200", "jetson-agx-orin-64gb", "jetson-orin-nano-8gb", "cpu-generic"]


def _raw(name):
    return yaml.safe_load((bundled_dir("hwprofiles") / f"{name}.yaml").read_text())


def test_all_required_profiles_are_bundled():
    assert set(REQUIRED) <= set(list_ids("hwprofiles"))


@pytest.mark.parametrize("name", REQUIRED)
def test_profile_loads_and_is_dense_and_uncalibrated(name):
    hw = perfsim.load_hardware(name)
    assert hw.id == name
    assert not hw.calibration.calibrated
    assert hw.memory.usable_bytes <= hw.memory.capacity_bytes


def test_a10g_is_not_an_a10():
    """A10G runs bf16 at 70 TF dense (hardware.md trap 2), not the A10's 125 TF."""
    assert perfsim.load_hardware("a10g").peak_flops("bf16") == pytest.approx(70e12, rel=0.01)


def test_h100_peaks_are_dense_not_sparse(h100):
    assert h100.peak_flops("bf16") == pytest.approx(989.4e12)
    assert h100.peak_flops("fp8") == pytest.approx(2 * 989.4e12, rel=1e-3)


def test_unknown_key_is_rejected_naming_file_and_field(write_yaml):
    data = _raw("h100-sxm")
    data["memory"]["peak_bandwidth"] = 1.0
    path = write_yaml(data)
    with pytest.raises(perfsim.PerfsimInputError, match=r"case\.yaml: field 'memory\.peak_bandwidth'"):
        perfsim.load_hardware(path)


def test_negative_bandwidth_is_rejected(write_yaml):
    data = _raw("h100-sxm")
    data["memory"]["peak_bw_bytes_per_s"] = -3.35e12
    with pytest.raises(perfsim.PerfsimInputError, match="peak_bw_bytes_per_s.*greater than 0"):
        perfsim.load_hardware(write_yaml(data))


def test_unsourced_number_is_rejected(write_yaml):
    data = _raw("h100-sxm")
    del data["provenance"]["memory.l2_bytes"]
    with pytest.raises(perfsim.PerfsimInputError, match="memory.l2_bytes.*no entry in provenance"):
        perfsim.load_hardware(write_yaml(data))


def test_usable_above_capacity_is_rejected(write_yaml):
    data = _raw("h100-sxm")
    data["memory"]["usable_bytes"] = data["memory"]["capacity_bytes"] * 2
    with pytest.raises(perfsim.PerfsimInputError, match="usable_bytes"):
        perfsim.load_hardware(write_yaml(data))


def test_malformed_yaml_names_the_line(write_yaml):
    with pytest.raises(perfsim.PerfsimInputError, match="malformed YAML at line 2"):
        perfsim.load_hardware(write_yaml("id: x\n  bad: [unclosed\n"))


def test_calibration_overrides_only_the_fitted_efficiency(write_yaml, h100):
    data = _raw("h100-sxm")
    data["calibration"] = {"calibrated": True, "fitted": {"memory.e_bw": 0.5}}
    calibrated = perfsim.load_hardware(write_yaml(data))
    assert calibrated.efficiency_in_use.memory.e_bw == 0.5
    assert calibrated.efficiency.memory.e_bw == h100.efficiency.memory.e_bw  # prior untouched
    assert calibrated.memory == h100.memory  # datasheet untouched
    op = perfsim.ops.Elementwise("copy", 1e9, 1e9)
    assert perfsim.kernel_time(calibrated, op) > perfsim.kernel_time(h100, op)


def test_calibration_path_must_name_an_efficiency_field(write_yaml):
    data = copy.deepcopy(_raw("h100-sxm"))
    data["calibration"] = {"fitted": {"memory.nonexistent": 0.5}}
    with pytest.raises(perfsim.PerfsimInputError, match="memory.nonexistent"):
        perfsim.load_hardware(write_yaml(data))


def test_unknown_profile_lists_known_ones():
    with pytest.raises(perfsim.PerfsimInputError, match="known: .*h100-sxm"):
        perfsim.load_hardware("h100-sxm-typo")


def test_missing_dtype_peak_is_one_sentence():
    model = perfsim.load_model("qwen3-8b")
    fp8 = model.model_copy(update={"dtypes": model.dtypes.model_copy(update={"weights": "fp8",
                                                                            "activations": "fp8"})})
    with pytest.raises(perfsim.PerfsimInputError, match="'a10g' has no fp8 tensor peak .* choose one of"):
        perfsim.generate(fp8, "a10g", 1, 128, 16)


@pytest.mark.parametrize("path, value, field", [
    (("efficiency", "gemm", "e_max"), {"fp8": 0.7}, "efficiency.gemm.e_max"),
    (("efficiency", "attention", "prefill_e"), {}, "efficiency.attention.prefill_e"),
])
def test_an_efficiency_table_without_its_fallback_entry_is_one_sentence(tmp_path, path, value, field):
    """Other dtypes fall back to the bf16 (CPU: fp32) entry, so it must exist: no hard-coded default."""
    import yaml

    from perfsim.io.load import load_hardware

    data = perfsim.load_hardware("h100-sxm").model_dump(mode="json")
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    target = tmp_path / "h100-bad.yaml"
    target.write_text(yaml.safe_dump(data))
    with pytest.raises(perfsim.PerfsimInputError) as err:
        load_hardware(target)
    assert field in str(err.value) and "bf16" in str(err.value) and "\n" not in str(err.value)
