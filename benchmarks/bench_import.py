"""Start-up time: `import perfsim`, a first model load and `perfsim --help`, each in a fresh process.

Run: python benchmarks/bench_import.py [repetitions]   (goal: import and --help under 0.5 s)

The commands run interleaved (one of each per round, so machine load hits them alike), N rounds
(default 7); printed are the median and the p10-p90 spread of wall seconds per command, next to
the bare interpreter (`python -c pass`) as the floor. No assertions: the numbers are the result.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEATS = 7


def _commands() -> dict[str, list[str]]:
    python = sys.executable
    script = shutil.which("perfsim", path=str(Path(python).parent)) or shutil.which("perfsim")
    cli = [script] if script else [python, "-m", "perfsim"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "import perfsim": [python, "-c", "import perfsim"],
        "import perfsim; load_model('qwen3-8b')": [
            python, "-c", "import perfsim; perfsim.load_model('qwen3-8b')"],
        "perfsim --help": [*cli, "--help"],
    }


def _wall_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile (no numpy: this benchmark imports nothing heavy itself)."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS
    commands = _commands()
    for argv in commands.values():  # warm-up round: byte-code compiled, files in the page cache
        _wall_seconds(argv)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, argv in commands.items():
            times[name].append(_wall_seconds(argv))
    print(f"start-up wall time, fresh process each, {repeats} interleaved rounds "
          f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    print(f"  {'command':40s} {'median s':>9s} {'p10 s':>7s} {'p90 s':>7s}")
    for name, values in times.items():
        print(f"  {name:40s} {statistics.median(values):9.3f} {_quantile(values, 0.1):7.3f} "
              f"{_quantile(values, 0.9):7.3f}")


if __name__ == "__main__":
    main()
