"""Microbenchmark plans, the measurements table, the host profile and the base-profile choice."""

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.calibrate

from perfsim.calibrate import suite  # noqa: E402
from perfsim.calibrate.environment import describe, resolve_device  # noqa: E402
from perfsim.calibrate.host import bundled_profile_for, host_cpu_profile_yaml, measured_dram_bw  # noqa: E402
from perfsim.calibration.fit import fit_profile  # noqa: E402
from perfsim.spec.hardware import HardwareProfile  # noqa: E402


@pytest.fixture(scope="module")
def quick_ctx():
    return suite.context("cpu", quick=True)


def test_quick_cpu_plan_covers_every_single_device_family(quick_ctx):
    cases = suite.plan(quick_ctx)
    families = {c.family for c in cases}
    assert families == {"launch", "memory", "gemm", "moe", "attention", "scan"}  # comm needs 2+ GPUs
    assert all(c.estimate_s(quick_ctx) > 0 for c in cases)
    full = suite.plan(suite.context("cpu", quick=False))
    assert len(full) > len(cases)


def test_unknown_family_is_one_sentence(quick_ctx):
    with pytest.raises(ValueError, match="unknown microbenchmark family .*allowed: launch"):
        suite.plan(quick_ctx, ["gemm", "tachyon"])


def test_run_writes_a_tidy_table_that_fits(quick_ctx, tmp_path):
    gemms = [c for c in suite.plan(quick_ctx, ["gemm"]) if c.shape["m"] in (1, 128)][:4]
    cases = suite.plan(quick_ctx, ["launch"]) + gemms
    done = []
    frame = suite.run(cases, quick_ctx, on_case_done=done.append)
    assert done == cases
    assert list(frame["family"]) == ["launch"] + ["gemm"] * 4
    assert {"kind", "device", "m", "n", "k", "dtype", "median_s", "p10_s", "p90_s", "reps",
            "outliers", "timing"} <= set(frame.columns)
    assert (frame["median_s"] > 0).all() and (frame["p10_s"] <= frame["p90_s"]).all()
    path = tmp_path / "m.csv"
    suite.save(frame, describe("cpu"), path)
    loaded, env = suite.load(path)
    assert env["device"] == "cpu" and env["torch"]
    pd.testing.assert_frame_equal(loaded[["m", "median_s"]], frame[["m", "median_s"]], check_dtype=False)
    fit = fit_profile(HardwareProfile.model_validate(yaml.safe_load(_host_yaml(frame))), frame)
    assert "gemm.e_max.fp32" in fit.fitted and "launch.host_per_kernel_s" in fit.fitted


def _host_yaml(frame):
    big = pd.DataFrame([{"family": "memory", "kind": "copy", "bytes_read": 2**30, "bytes_written": 2**30,
                         "median_s": 0.1}])
    return host_cpu_profile_yaml(pd.concat([frame, big], ignore_index=True))


def test_host_profile_uses_the_measured_dram_bandwidth():
    rows = pd.DataFrame([
        {"family": "memory", "kind": "copy", "bytes_read": 2**30, "bytes_written": 2**30, "median_s": 0.1},
        {"family": "memory", "kind": "read", "bytes_read": 2**30, "bytes_written": 0, "median_s": 0.04},
        {"family": "memory", "kind": "read", "bytes_read": 2**16, "bytes_written": 0, "median_s": 1e-7},
    ])
    assert measured_dram_bw(rows, 32 * 2**20) == pytest.approx(2**30 / 0.04)  # the cache-sized row is ignored
    hw = HardwareProfile.model_validate(yaml.safe_load(host_cpu_profile_yaml(rows)))
    assert hw.memory.peak_bw_bytes_per_s == pytest.approx(2**30 / 0.04)
    assert hw.provenance["memory.peak_bw_bytes_per_s"].startswith("measured:")
    assert hw.compute.peak_dense_flops_per_s["fp32"] > 1e9
    assert not hw.calibration.calibrated


def test_host_profile_needs_dram_sized_rows():
    rows = pd.DataFrame([{"family": "memory", "kind": "copy", "bytes_read": 4096, "bytes_written": 4096,
                          "median_s": 1e-6}])
    with pytest.raises(ValueError, match="beyond 4x the last-level cache"):
        measured_dram_bw(rows, 32 * 2**20)


@pytest.mark.parametrize("name, profile", [("NVIDIA H100 80GB HBM3", "h100-sxm"),
                                           ("NVIDIA H100 PCIe", "h100-pcie"),
                                           ("NVIDIA H200", "h200-sxm"), ("NVIDIA A10G", "a10g")])
def test_gpu_names_map_to_bundled_profiles(name, profile):
    assert bundled_profile_for(name) == profile


def test_unknown_gpu_asks_for_base():
    with pytest.raises(ValueError, match="pass --base"):
        bundled_profile_for("Voodoo2")


def test_device_errors_are_one_sentence():
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="must be 'cpu' or 'cuda'"):
        resolve_device("tpu")
