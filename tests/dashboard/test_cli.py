"""`perfsim dashboard` finds the packaged app and hands it to `python -m streamlit run`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import perfsim.cli.dashboard as cli_dashboard
from perfsim.cli.app import app

REPO = Path(__file__).resolve().parents[2]


def test_app_path_is_the_checkouts_app():
    assert cli_dashboard.app_path() == REPO / "dashboard" / "app.py"


def test_command_runs_streamlit_on_the_app_headless_when_asked():
    cmd = cli_dashboard.streamlit_command(8600, "127.0.0.1", browser=False)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py")]
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags["--server.port"] == "8600" and flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"


@pytest.mark.dashboard
def test_dashboard_command_starts_the_server_and_returns_its_status(monkeypatch):
    calls = []
    monkeypatch.setattr(cli_dashboard, "serve", lambda cmd: calls.append(cmd) or 3)
    result = CliRunner().invoke(app, ["dashboard", "--port", "8765", "--no-browser"])
    assert result.exit_code == 3
    assert calls and calls[0][4].endswith("app.py") and "8765" in calls[0]


def test_help_lists_the_dashboard_command():
    out = subprocess.run([sys.executable, "-m", "perfsim", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "dashboard" in out.stdout


def test_importing_the_dashboard_package_does_not_import_streamlit():
    code = "import sys, dashboard; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
