"""`perfsim calibrate --from-table`: fits runtimes from a table and writes only their calibrations."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

from perfsim.cli.app import app
from perfsim.spec.hardware import HardwareProfile

runner = CliRunner()
SAMPLE = Path(__file__).parents[2] / "benchmarks" / "data" / "aiconfigurator" / "h100_sxm_sample.csv"
BASE = Path(__file__).parents[2] / "hwprofiles" / "h100-sxm.yaml"


def test_csv_table_calibrates_one_runtime_into_a_copy_of_the_profile(tmp_path):
    out = tmp_path / "h100.yaml"
    done = runner.invoke(app, ["calibrate", "--from-table", str(SAMPLE), "--base", str(BASE),
                               "--runtime", "nccl", "--out", str(out)])
    assert done.exit_code == 0, done.output
    profile = HardwareProfile.model_validate(yaml.safe_load(out.read_text()))
    base = HardwareProfile.model_validate(yaml.safe_load(BASE.read_text()))
    assert "nccl" in profile.calibration.runtimes and profile.compute == base.compute
    assert set(profile.calibration.runtimes["nccl"].fit_quality) == {"allreduce_nccl"}


def test_other_systems_and_missing_options_are_one_sentence():
    refused = runner.invoke(app, ["calibrate", "--from-table", "aiconfigurator", "--system", "h200_sxm",
                                  "--runtime", "vllm"])
    assert refused.exit_code == 2 and "is not allowed" in refused.output
    assert "Traceback" not in refused.output
    missing = runner.invoke(app, ["calibrate", "--from-table", "aiconfigurator", "--system", "h100_sxm"])
    assert missing.exit_code == 2 and "--runtime" in missing.output
