"""`perfsim dashboard`: start the Streamlit what-if dashboard in a subprocess.

Streamlit is an optional extra (`pip install "perfsim[dashboard]"`), so it is looked up here and
never imported by `perfsim` itself. The app is the `perfsim.dashboard` package (the repository's
`dashboard/` folder, linked into `perfsim/` in a checkout and copied there in the wheel).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import typer

from perfsim.cli.output import fail
from perfsim.extras import check


def app_path() -> Path:
    """The dashboard's entry script (`perfsim/dashboard/app.py`, in a wheel or a source checkout)."""
    spec = importlib.util.find_spec("perfsim.dashboard")
    if spec is None or spec.origin is None or not (Path(spec.origin).parent / "app.py").is_file():
        fail("the dashboard app is missing from this installation (expected perfsim/dashboard/app.py); "
             "reinstall perfsim.")
        raise AssertionError  # fail() exits
    return Path(spec.origin).resolve().parent / "app.py"


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
    check("streamlit", "plotly", extra="dashboard", feature="the dashboard")
    raise typer.Exit(subprocess.call(streamlit_command(port, address, browser)))
