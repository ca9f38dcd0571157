"""`perfsim sweep`, `search` and `frontier` through typer's CliRunner."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from perfsim.cli.app import app

runner = CliRunner()


@pytest.mark.parquet
def test_sweep_writes_parquet_and_prints_tables(write_yaml, tmp_path):
    space = write_yaml(
        {
            "model": "qwen3-0.6b",
            "hardware": ["h100-sxm", "a10g"],
            "parameters": {"workload.batch": [1, 4, 16]},
        },
        "space.yaml",
    )
    out = tmp_path / "rows.parquet"
    result = runner.invoke(app, ["sweep", str(space), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 6
    shown = runner.invoke(
        app, ["sweep", str(space), "--format", "json", "--quiet", "--executor", "process", "--workers", "2"]
    )
    rows = json.loads(shown.stdout)
    assert shown.exit_code == 0 and [r["batch"] for r in rows] == [1, 1, 4, 4, 16, 16]


@pytest.mark.optuna
def test_search_prints_front_and_writes_trials(write_yaml, tmp_path):
    space = write_yaml(
        {
            "architecture": {"n_layers": 6, "hidden_size": 768},
            "search": {"n_layers": {"low": 2, "high": 8}, "mixers": ["attention", "mamba2"]},
            "constraints": {"params": {"max": 3.0e8}},
            "budget": 10,
        },
        "space.yaml",
    )
    out = tmp_path / "trials.csv"
    result = runner.invoke(app, ["search", str(space), "-o", str(out), "--quiet", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 10 and "design" in result.stdout.splitlines()[0]


def test_frontier_command():
    result = runner.invoke(
        app, ["frontier", "-m", "qwen3-0.6b", "-m", "nemotron-flash-1b", "-h", "h100-sxm", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["design"]: r for r in json.loads(result.stdout)}
    # default axis MMLU (5-shot, base): NF-1B is faster, Qwen3-0.6B more accurate, so both are on the front
    assert rows["nemotron-flash-1b"]["on_front"] and rows["qwen3-0.6b"]["on_front"]
    assert rows["qwen3-0.6b"]["accuracy"] > rows["nemotron-flash-1b"]["accuracy"]


def test_bad_space_exits_2_with_one_sentence(write_yaml):
    space = write_yaml({"model": "qwen3-0.6b", "parameters": {"speed": [1]}}, "space.yaml")
    for command in (["sweep", str(space)], ["search", str(space)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert "error:" in result.stderr and "'speed' is not a sweepable field" in result.stderr
        assert (
            len(result.stderr.strip().splitlines()) == 1
            and result.exception is None
            or isinstance(result.exception, SystemExit)
        )
    missing = runner.invoke(app, ["sweep", "nope.yaml"])
    assert missing.exit_code == 2 and "nope.yaml: file not found" in missing.stderr
