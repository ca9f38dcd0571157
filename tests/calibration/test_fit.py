"""Fitting recovers known efficiencies from noisy synthetic measurements; the writer changes only
the calibration block."""

import numpy as np
import pandas as pd
import pytest
import yaml

import perfsim
from perfsim.calibration.fit import fit_profile, predict_rows, with_fitted
from perfsim.calibration.writer import replace_calibration
from perfsim.io.catalog import find
from perfsim.spec.hardware import Calibration, HardwareProfile

TRUE_H100 = {
    "gemm.e_max.bf16": 0.70, "gemm.k_half": 220.0, "gemm.t_fixed_s": 3.0e-6, "gemm.e_bw": 0.78,
    "gemm.tiles.3.2": 0.45,
    "memory.e_bw": 0.86, "memory.t_fixed_s": 2.2e-6,
    "attention.prefill_e.bf16": 0.55, "attention.kv_half": 300.0, "attention.decode_e_bw": 0.68,
    "attention.t_fixed_s": 6.0e-6,
    "scan.e_flops": 0.2, "scan.e_bw": 0.5, "scan.t_fixed_s": 5e-6,
}


def _synthetic_rows() -> pd.DataFrame:
    rows = []
    for m in (1, 8, 32, 64, 128, 512, 2048, 8192):
        for n, k in [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336), (3072, 512)]:
            rows.append(dict(family="gemm", kind="linear", m=m, n=n, k=k, dtype="bf16"))
    rows += [dict(family="gemm", kind="linear", m=s, n=s, k=s, dtype="bf16") for s in (1024, 4096, 8192)]
    for nbytes in np.geomspace(2**12, 2**31, 14):
        rows.append(dict(family="memory", kind="copy", bytes_read=nbytes, bytes_written=nbytes))
    attn = dict(family="attention", num_heads=32, num_kv_heads=8, head_dim=128, dtype="bf16")
    for b, s in [(1, 512), (1, 2048), (1, 8192), (4, 2048), (16, 1024), (1, 128)]:
        rows.append(attn | dict(kind="sdpa_prefill", phase="prefill", batch=b, q_len=s, kv_len=s))
    for b in (1, 8, 64):
        for kv in (256, 1024, 8192, 32768):
            rows.append(attn | dict(kind="sdpa_decode", phase="decode", batch=b, q_len=1, kv_len=kv))
    scan = dict(family="scan", kind="mamba2", num_heads=128, head_dim=64, state_size=128, n_groups=8,
                chunk_size=256, dtype="bf16")
    for b, length in [(1, 4096), (4, 4096), (1, 16384), (1, 256)]:
        rows.append(scan | dict(phase="prefill", batch=b, seq_len=length))
    for b in (1, 16, 256, 1024):
        rows.append(scan | dict(phase="decode", batch=b, seq_len=1))
    rows.append(dict(family="launch", kind="eager_op", ops=1, median_s=7e-6))
    for nodes, t in ((1, 12e-6), (16, 30e-6), (64, 85e-6)):
        rows.append(dict(family="launch", kind="graph_replay", ops=nodes, median_s=t))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def synthetic(h100):
    truth = with_fitted(h100, TRUE_H100)
    frame = _synthetic_rows()
    priced = frame["family"] != "launch"
    noise = np.random.default_rng(7).lognormal(0.0, 0.03, priced.sum())
    frame.loc[priced, "median_s"] = predict_rows(truth, frame[priced]) * noise
    return frame, fit_profile(h100, frame)


@pytest.mark.parametrize("path", sorted(TRUE_H100))
def test_fit_recovers_known_parameters_from_noisy_measurements(synthetic, path):
    _, fit = synthetic
    # within 15%: 3% lognormal noise; weakly identified terms (fixed costs) get the widest margin
    assert fit.fitted[path] == pytest.approx(TRUE_H100[path], rel=0.15)


def test_fit_quality_improves_on_the_prior_and_matches_the_noise(synthetic):
    _, fit = synthetic
    for family in ("gemm", "memory", "attention", "scan"):
        q = fit.quality[family]
        assert q["median_abs_err_fitted"] < 0.04, family  # noise sigma is 3%
        assert q["median_abs_err_fitted"] < q["median_abs_err_prior"], family


def test_launch_costs_are_measured_directly(synthetic):
    _, fit = synthetic
    assert fit.fitted["launch.host_per_kernel_s"] == pytest.approx(7e-6)
    slope, intercept = np.polyfit([1, 16, 64], [12e-6, 30e-6, 85e-6], 1)
    assert fit.fitted["launch.graph_launch_s"] == pytest.approx(intercept, rel=1e-3)
    assert fit.fitted["launch.gpu_min_kernel_s"] == pytest.approx(slope, rel=1e-3)


def test_fit_only_changes_efficiency_never_datasheet(synthetic, h100):
    _, fit = synthetic
    calibrated = perfsim.calibration.fit.calibrated(h100, fit, {"date_utc": "2026-11-22T00:00:00Z"},
                                                    ["x.csv"])
    for section in ("compute", "memory", "interconnect", "power", "efficiency", "provenance"):
        assert getattr(calibrated, section) == getattr(h100, section)
    assert calibrated.calibration.calibrated and calibrated.calibration.date.startswith("2026")
    assert calibrated.efficiency_in_use.gemm.k_half == fit.fitted["gemm.k_half"]
    assert calibrated.efficiency_in_use.gemm.tiles[3][2] == fit.fitted["gemm.tiles.3.2"]


def test_held_out_family_is_reported_not_fitted(h100):
    truth = with_fitted(h100, TRUE_H100)
    frame = _synthetic_rows()
    frame = frame[frame["family"] == "gemm"].copy()
    moe = pd.DataFrame([dict(family="moe", kind="grouped_linear", m=r, n=1536, k=2048, groups=32,
                             dtype="bf16") for r in (1, 16, 128)])
    frame = pd.concat([frame, moe], ignore_index=True)
    frame["median_s"] = predict_rows(truth, frame)
    fit = fit_profile(h100, frame)
    assert fit.quality["moe"]["held_out"] == 1.0
    assert fit.quality["moe"]["median_abs_err_fitted"] < 0.05  # right because the GEMM fit is right
    assert not any(k.startswith("moe") for k in fit.fitted)


def test_unknown_family_is_one_sentence(h100):
    frame = pd.DataFrame([dict(family="gemm", kind="linear", m=1, n=1, k=1, dtype="bf16", median_s=1e-5)])
    frame.loc[0, "family"] = "warp-drive"
    fit = fit_profile(h100, frame)  # unknown families are neither fitted nor priced
    assert fit.fitted == {} and fit.quality == {}


def test_writer_replaces_only_the_calibration_block():
    base = find("hwprofiles", "h100-sxm")[1]
    cal = Calibration(calibrated=True, date="2026-11-22", environment={"gpu_name": "H100"},
                      microbenchmarks=["m.csv: gemm 3"], fitted={"memory.e_bw": 0.81, "gemm.tiles.2.2": 0.5},
                      fit_quality={"memory": {"n": 3.0}})
    text = replace_calibration(base, cal)
    head = base[: base.index("calibration:")]
    assert text.startswith(head)  # every byte before the block, comments included
    loaded = HardwareProfile.model_validate(yaml.safe_load(text))
    assert loaded.calibration == cal
    assert loaded.efficiency_in_use.memory.e_bw == 0.81
    assert loaded.efficiency_in_use.gemm.tiles[2][2] == 0.5
    # round trip: writing the same calibration again is a fixed point
    assert replace_calibration(text, cal) == text


def test_writer_appends_when_the_base_has_no_block_and_keeps_following_keys():
    base = "id: x\ncalibration:\n  calibrated: false\n# trailing comment\nzzz: 1\n"
    text = replace_calibration(base, Calibration(calibrated=True))
    assert text.startswith("id: x\ncalibration:\n  calibrated: true\n")
    assert text.endswith("zzz: 1\n")
    assert replace_calibration("id: x", Calibration()).startswith("id: x\ncalibration:\n")


def test_bad_fitted_path_is_rejected_with_the_path():
    base = yaml.safe_load(find("hwprofiles", "h100-sxm")[1])
    base["calibration"] = {"fitted": {"gemm.tiles.9.2": 0.5}}
    with pytest.raises(ValueError, match="gemm.tiles.9.2"):
        HardwareProfile.model_validate(base)
