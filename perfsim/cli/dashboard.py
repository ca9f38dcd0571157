"""`perfsim dashboard`: start the Streamlit what-if dashboard in a subprocess.

Streamlit is an optional extra (`pip install "perfsim[dashboard]"`), so it is looked up here and
never imported by `perfsim` itself. The app is the `perfsim.dashboard` package (the repository's
`dashboard/` folder, linked into `perfsim/` in a checkout and copied there in the wheel).
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import typer

from perfsim.cli.options import bounded
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
    port: int = bounded(8501, "--port", low=1, high=65535, help="port to serve on"),
    address: str = typer.Option("localhost", help="interface to bind (0.0.0.0 to share on a network)"),
    browser: bool = typer.Option(True, help="open a browser tab when the server is up"),
) -> None:
    """Start the what-if dashboard (Streamlit) at http://ADDRESS:PORT."""
    check("streamlit", "plotly", extra="dashboard", feature="the dashboard")
    raise typer.Exit(serve(streamlit_command(port, address, browser)))


class _Stop(Exception):
    """A termination signal arrived while the child was serving."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def wait_until_serving(url: str, proc: subprocess.Popen, timeout_s: float) -> bool:
    """Poll the server's health endpoint until it answers (True), or the process exits or
    `timeout_s` passes (False); for tests and benchmarks that start the app themselves."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.2)  # the server is still starting
    return False


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM if the launcher dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def serve(command: list[str], grace_s: float = 10.0) -> int:
    """Run `command` (the Streamlit server) until it exits, and take it down with the launcher:
    SIGTERM, SIGHUP or Ctrl-C to `perfsim dashboard` terminates the child (SIGKILL after `grace_s`)
    and waits for it, so no server is left serving the port; returns the exit status (128 + the
    signal number when stopped by one)."""

    def stop(signum: int, frame: object) -> None:
        raise _Stop(signum)

    child = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509 -- no threads here
    # SIGINT too: a launcher started in the background by a non-interactive shell inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt for it
    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        return child.wait()
    except (_Stop, KeyboardInterrupt) as exc:
        child.terminate()
        try:
            child.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 128 + (exc.signum if isinstance(exc, _Stop) else signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
