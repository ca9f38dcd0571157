"""`perfsim dashboard` never leaves its Streamlit child serving: the launcher takes the child down
when it is terminated (SIGTERM, SIGHUP), interrupted, or killed outright (Linux)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfsim.cli.app import run

CHILD = "import os, time; print(os.getpid(), flush=True); time.sleep(120)"
LAUNCHER = (
    "import sys; from perfsim.cli.dashboard import serve; "
    f"sys.exit(serve([sys.executable, '-c', {CHILD!r}], grace_s=5))"
)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "\nState:\tZ" not in status.read_text()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(pid: int, within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _launch():
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdout=subprocess.PIPE, text=True)
    child = int(launcher.stdout.readline())
    return launcher, child


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_to_the_launcher_stops_the_child(sig):
    launcher, child = _launch()
    try:
        launcher.send_signal(sig)
        assert launcher.wait(timeout=30) == 128 + sig
        assert _gone(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_killing_the_launcher_outright_stops_the_child():
    launcher, child = _launch()
    try:
        launcher.kill()
        launcher.wait(timeout=30)
        assert _gone(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_port_is_checked_before_anything_starts(capsys):
    assert run(["dashboard", "--port", "70000"]) == 2
    assert "--port must be an integer from 1 to 65,535 (got 70000)" in capsys.readouterr().err
