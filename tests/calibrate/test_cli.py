"""`perfsim calibrate` and `perfsim validate` end to end on this CPU (small families/models)."""

import subprocess
import sys

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.calibrate

from perfsim.io.catalog import find  # noqa: E402
from perfsim.io.load import load_hardware  # noqa: E402

TINY = {
    "schema_version": 1, "id": "tiny-cli", "display_name": "tiny", "source": {"url": "test"},
    "hidden_size": 64, "vocab_size": 256, "tie_embeddings": True, "max_context_len": 2048,
    "layer_pattern": "M-*-", "pattern_ops": {"M": "mamba", "*": "attn", "-": "mlp"},
    "operators": {
        "mamba": {"type": "mamba2", "num_heads": 4, "head_dim": 16, "state_size": 16, "chunk_size": 32},
        "attn": {"type": "attention", "num_heads": 4, "num_kv_heads": 2, "head_dim": 16},
        "mlp": {"type": "mlp", "intermediate_size": 128},
    },
}


def run(*args):
    return subprocess.run([sys.executable, "-m", "perfsim", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "generic.yaml"
    done = run("calibrate", "--device", "cpu", "--quick", "--base", "cpu-generic", "--family", "launch",
               "--family", "attention", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


def test_calibrate_writes_profile_table_and_fit_report(calibrated):
    out, done = calibrated
    assert "microbenchmarks on cpu" in done.stderr and "estimated" in done.stderr
    assert "fit quality" in done.stdout and "attention.decode_e_bw" in done.stdout
    hw = load_hardware(out)
    base = load_hardware("cpu-generic")
    assert hw.calibration.calibrated and hw.calibration.environment["device"] == "cpu"
    assert hw.compute == base.compute and hw.memory == base.memory and hw.efficiency == base.efficiency
    assert set(hw.calibration.fitted) >= {"launch.host_per_kernel_s", "attention.t_fixed_s"}
    assert hw.calibration.fit_quality["attention"]["n"] > 0
    text = out.read_text()
    base_text = find("hwprofiles", "cpu-generic")[1]
    assert text.startswith(base_text[: base_text.index("calibration:")])
    table = pd.read_csv(out.with_suffix(".measurements.csv"))
    assert set(table["family"]) == {"launch", "attention"}
    assert yaml.safe_load(out.with_suffix(".measurements.env.json").read_text())["torch"]


def test_plan_only_runs_nothing(tmp_path):
    done = run("calibrate", "--device", "cpu", "--quick", "--plan", "--out", str(tmp_path / "x.yaml"))
    assert done.returncode == 0 and "estimated" in done.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_validate_prints_measured_vs_predicted(calibrated, tmp_path):
    out, _ = calibrated
    model = tmp_path / "tiny.yaml"
    model.write_text(yaml.safe_dump(TINY))
    csv = tmp_path / "val.csv"
    done = run("validate", "--device", "cpu", "--profile", str(out), "--model", str(model), "--out", str(csv))
    assert done.returncode == 0, done.stderr
    assert "median |error| per phase" in done.stdout
    table = pd.read_csv(csv)
    assert set(table["phase"]) == {"prefill", "decode"}
    assert (table["measured_s"] > 0).all() and (table["predicted_calibrated_s"] > 0).all()
    ratio = table["predicted_calibrated_s"] / table["measured_s"] - 1
    assert ratio.tolist() == pytest.approx(table["error_calibrated"].tolist())


@pytest.mark.parametrize("args, needle", [
    (("calibrate", "--device", "tpu"), "--device must be 'cpu' or 'cuda'"),
    (("calibrate", "--device", "cpu", "--family", "warp"), "unknown microbenchmark family"),
    (("calibrate", "--device", "cpu", "--base", "no-such-profile", "--plan"), None),
    (("validate", "--device", "cpu", "--dtype", "int3"), "--dtype must be one of"),
    (("validate", "--device", "cpu", "--profile", "missing.yaml"), "missing.yaml"),
])
def test_bad_input_is_one_sentence(args, needle, tmp_path):
    done = subprocess.run([sys.executable, "-m", "perfsim", *args], capture_output=True, text=True,
                          cwd=tmp_path)
    if needle is None:  # --plan never loads the base profile
        assert done.returncode == 0
        return
    assert done.returncode == 2, done.stdout
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
