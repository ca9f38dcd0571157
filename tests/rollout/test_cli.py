"""`perfsim rollout` end to end through the CLI entry point."""

import json
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from perfsim.cli.app import app

ARGS = ["rollout", "-m", "qwen3-0.6b", "-h", "h100-sxm", "--steps", "2", "--prompts", "4", "--samples", "4",
        "--output-len", "lognormal:200:0.8:100000", "--max-output-len", "512", "--gen-gpus", "2",
        "--train-gpus", "2"]


def test_rollout_json_summary_and_timeline(tmp_path):
    timeline = tmp_path / "timeline.csv"
    out = CliRunner().invoke(app, [*ARGS, "--json", "--timeline", str(timeline), "--placement",
                                   "disaggregated", "--pipeline", "async"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["steps"] == 2 and summary["pipeline"] == "async" and summary["total_s"] > 0
    frame = pd.read_csv(timeline)
    assert {"pool", "phase", "step", "start_s", "end_s"} <= set(frame.columns)


def test_rollout_table_with_speculative_and_per_step(write_yaml):
    config = write_yaml({"steps": 1, "samples_per_prompt": 2})
    out = CliRunner().invoke(app, ["rollout", "-m", "qwen3-0.6b", "-h", "h100-sxm", "-c", str(config),
                                   "--prompts", "4", "--max-output-len", "256", "--decoding", "eagle",
                                   "--k", "3", "--acceptance-by-step", "0.7", "--per-step"])
    assert out.exit_code == 0, out.output
    assert "speculative (eagle, k=3" in out.stdout and "per step" in out.stdout


def test_bad_rollout_input_is_one_sentence_with_status_2():
    proc = subprocess.run([sys.executable, "-m", "perfsim", *ARGS, "--pipeline", "partial"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "needs partial_rollout_tokens" in proc.stderr
