"""`perfsim dashboard`: start the Streamlit what-if dashboard in a subprocess.

Streamlit is an optional extra (`pip install "perfsim[dashboard]"`), so it is looked up here and
never imported by `perfsim` itself. The app ships as the top-level `dashboard` package of the wheel;
from a source checkout it is `dashboard/app.py` next to `perfsim/`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import typer

from perfsim.cli_output import fail


def app_path() -> Path:
    """The dashboard's entry script, from an installed wheel or from the source checkout."""
    spec = importlib.util.find_spec("dashboard")
    candidates = [Path(spec.origin).parent / "app.py"] if spec is not None and spec.origin else []
    candidates.append(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
    for path in candidates:
        if path.is_file() and (path.parent / "sidebar.py").is_file():  # ours, not another 'dashboard'
            return path
    fail("the dashboard app is missing from this installation (expected dashboard/app.py); "
         "reinstall perfsim.")
    raise AssertionError  # fail() exits


def streamlit_command(port: int, address: str, browser: bool) -> list[str]:
    """The `python -m streamlit run` command line for the packaged app."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path()),
            "--server.port", str(port), "--server.address", address,
            "--server.headless", "false" if browser else "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]


def dashboard_cmd(
    port: int = typer.Option(8501, help="port to serve on"),
    address: str = typer.Option("localhost", help="interface to bind (0.0.0.0 to share on a network)"),
    browser: bool = typer.Option(True, help="open a browser tab when the server is up"),
) -> None:
    """Start the what-if dashboard (Streamlit) at http://ADDRESS:PORT."""
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("plotly") is None:
        fail('the dashboard needs streamlit and plotly: pip install "perfsim[dashboard]".')
    raise typer.Exit(subprocess.call(streamlit_command(port, address, browser)))
