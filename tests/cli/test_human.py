"""Table cells in human units, and tables that fit the terminal (JSON and CSV stay raw SI)."""

import json

import pandas as pd
import pytest

from perfsim.cli.app import run
from perfsim.cli.human import cell
from perfsim.cli.output import Format, emit


@pytest.mark.parametrize(
    "value, name, text",
    [
        (0.08712, "ttft_s", "87.1 ms"),
        (1.844, "e2e_s", "1.84 s"),
        (1.2e-5, "latency_s", "12.0 µs"),
        (0.0, "tpot_s", "0 s"),
        (5000.0, "step_s", "83.3 min"),
        (555.2, "tokens_per_s", "555 tok/s"),
        (2.169, "requests_per_s", "2.17 req/s"),
        (3.35e12, "peak_bw_bytes_per_s", "3.35 TB/s"),
        (1.638e10, "weights_bytes", "16.4 GB"),
        (0, "state_bytes", "0 B"),
        (8.19e9, "params", "8.19 B"),
        (1234567, "generated_tokens", "1,234,567"),
        (0.123456, "accuracy", "0.1235"),
        (float("nan"), "ttft_s", "—"),
        (True, "fits", "True"),
        ("qwen3-8b", "model", "qwen3-8b"),
    ],
)
def test_cells_carry_the_unit_their_column_names(value, name, text):
    assert cell(value, name) == text


def test_a_wide_table_fits_80_columns_as_records(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    frame = pd.DataFrame([{f"column_number_{i}_s": 0.001 * i for i in range(12)}])
    emit(frame, Format.table, "wide")
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("column_number_11_s" in line and "11.0 ms" in line for line in lines)


def test_predict_table_fits_80_columns_and_json_stays_raw(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    argv = ["predict", "-m", "qwen3-0.6b", "-h", "l4", "--prompt-len", "64", "--output-len", "8"]
    assert run(argv) == 0
    table = capsys.readouterr().out
    assert max(len(line) for line in table.splitlines()) <= 80 and " ms " in table and " GB " in table
    assert "e+" not in table
    assert run([*argv, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert isinstance(row["ttft_s"], float) and row["weights_bytes"] > 1e8
