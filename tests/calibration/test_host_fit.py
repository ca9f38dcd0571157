"""Host-cost fitting (issue 17): recovers known host costs from perfsim-priced synthetic rows, LOO
never sees the held-out value, unpriceable rows are reported, --write changes only the host block."""

import csv
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

import perfsim
from perfsim import Execution
from perfsim.calibration.host import (
    HostRow,
    fit_host,
    fit_runtime,
    identifiable,
    leave_one_out,
    replace_host_block,
)
from perfsim.spec.runtime import RuntimeProfile

ROOT = Path(__file__).resolve().parents[2]
TRUE = {"per_step": 0.8e-3, "per_seq_per_step": 40e-6, "per_kernel_eager": 12e-6}


def _script():
    spec = importlib.util.spec_from_file_location(
        "fit_runtime_host", ROOT / "benchmarks" / "fit_runtime_host.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


def _synthetic(noise=0.0):
    rows = []
    cases = [("qwen2.5-0.5b", "l4"), ("llama-3.1-8b", "h100-sxm"), ("qwen3-0.6b", "h100-sxm")]
    i = 0
    for model, hw in cases:
        for batch in (1, 4, 16):
            for graphs in (True, False):
                step = perfsim.decode_step(
                    model, hw, batch, 512, execution=Execution(cuda_graphs=graphs, host_per_kernel_s=0.0)
                )
                feats = {"per_step": 1.0, "per_seq_per_step": float(batch)}
                if not graphs:
                    feats["per_kernel_eager"] = float(step.kernels)
                host = sum(TRUE[p] * x for p, x in feats.items())
                measured = (step.latency_s + host) * (1 + noise * ((-1) ** i))
                rows.append(HostRow(f"r{i}", measured, step.latency_s, feats, "synthetic"))
                i += 1
    return rows


def test_fit_recovers_known_host_costs():
    fit = fit_host(_synthetic())
    for name, value in TRUE.items():
        assert fit.values[name] == pytest.approx(value, rel=1e-6)


def test_fit_with_noise_stays_close():
    fit = fit_host(_synthetic(noise=0.01))
    assert fit.values["per_step"] == pytest.approx(TRUE["per_step"], rel=0.3)
    assert fit.values["per_kernel_eager"] == pytest.approx(TRUE["per_kernel_eager"], rel=0.3)


def test_loo_prediction_does_not_depend_on_the_held_out_value():
    rows = _synthetic(noise=0.02)
    params = list(fit_host(rows).values)
    base = leave_one_out(rows, params)
    k = 3
    changed = list(rows)
    changed[k] = HostRow(rows[k].key, rows[k].measured_s * 3, rows[k].device_s, rows[k].features)
    again = leave_one_out(changed, params)
    assert again[k].predicted_s == pytest.approx(base[k].predicted_s, rel=1e-12)
    assert any(
        abs(a.predicted_s - b.predicted_s) > 1e-9
        for a, b in zip(again, base, strict=True)
        if a.key != rows[k].key
    )


def test_parameters_need_two_rows_and_variation():
    rows = [
        HostRow("a", 2e-3, 1e-3, {"per_step": 1, "per_seq_per_step": 1, "per_kernel_eager": 100}),
        HostRow("b", 3e-3, 2e-3, {"per_step": 1, "per_seq_per_step": 1}),
    ]
    kept, why = identifiable(rows, ("per_step", "per_seq_per_step", "per_kernel_eager"))
    assert kept == ["per_step"]
    assert "collinear" in why["per_seq_per_step"] and "only 1" in why["per_kernel_eager"]
    result = fit_runtime(rows, candidates=("per_step", "per_seq_per_step", "per_kernel_eager"))
    reports = {p.name: p for p in result.parameters}
    assert reports["per_kernel_eager"].value_s is None and reports["per_step"].value_s == pytest.approx(1e-3)


def test_unpriceable_rows_are_reported_with_a_reason(tmp_path):
    mod = _script()
    src = ROOT / "benchmarks" / "data" / "runtime_measurements.csv"
    with open(src, newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    good = next(r for r in rows if "ai.wmx.dev" in r["source_url"] and r["metric"] == "itl_ms")
    bad_gpu = {**good, "gpu": "RTX 3090"}
    bad_model = {**good, "model": "google/gemma-7b"}
    path = tmp_path / "m.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows([good, bad_gpu, bad_model])
    _, fit, _, excluded = mod.load_rows(path)
    assert [p.key for p, _ in fit["vllm"]] == ["row1"]
    reasons = {k: why for k, _, _, _, why in excluded}
    assert "RTX 3090" in reasons["row2"] and "not bundled" in reasons["row3"]


def test_write_replaces_only_the_host_block(tmp_path):
    mod = _script()
    rt_dir = tmp_path / "runtimes"
    rt_dir.mkdir()
    # start from the catalogue file with an unfitted host block (it may already carry a fit)
    original = replace_host_block((ROOT / "runtimes" / "vllm.yaml").read_text(), "host: {}\n")
    (rt_dir / "vllm.yaml").write_text(original)
    argv = ["--out", str(tmp_path / "fit.csv"), "--runtimes-dir", str(rt_dir), "--write"]
    assert mod.main(argv) == 0
    written = (rt_dir / "vllm.yaml").read_text()
    profile = RuntimeProfile.model_validate(yaml.safe_load(written))
    assert profile.host.per_step.fitted_by == "benchmarks/fit_runtime_host.py"
    assert "row" in profile.host.per_step.source
    before, after = original.split("\nhost:")[0], written.split("\n# host costs fitted by")[0]
    assert before == after  # everything above the host block is untouched
    tail = original[original.index("\ndevices:") :]
    assert written.endswith(tail)  # and everything after it
    assert mod.main(argv) == 0  # a second run rewrites the same block
    assert (rt_dir / "vllm.yaml").read_text() == written
    assert (tmp_path / "fit.csv").exists() and (tmp_path / "fit.md").exists()


def test_replace_host_block_appends_when_absent():
    text = "id: x\n"
    assert replace_host_block(text, "host: {}\n") == "id: x\nhost: {}\n"
