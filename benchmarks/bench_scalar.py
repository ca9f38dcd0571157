"""Scalar library calls per second: `perfsim.generate` and `perfsim.decode_step` on Llama-3.1-8B /
H100 SXM at random (batch 1-256, prompt or context 64-1024, 256 output tokens) points, the calls a
design-search script makes.

Run: python benchmarks/bench_scalar.py [--rounds 5] [--calls 400]
Goals (issue 24): generate >= 10,000 calls/s, decode_step >= 30,000 calls/s.

`generate by id` names the model and device by id, as a script would: each call then also finds
the catalogue files (a few stats when unchanged) and looks up their validated specs.

Each round draws fresh random points (of 246,016 combinations, so repeats are rare; what the
compiled step plan keeps is per-GEMM tables by row count, kernel times by shape in tiles
(perfsim.cost.tables) and resolved deployments, never a whole result), and the calls alternate
round by round so machine load hits them alike. A warm-up round on other points builds the plan first.
`check_memory=False`: the grid includes batches that do not fit at the longest prompts, and the
question here is speed. Printed: median and
min-max of calls per wall second over the rounds, and the median per CPU second of this process
(on a shared machine the wall figure includes waiting for a core).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import perfsim

MODEL, HARDWARE, OUTPUT_LEN = "llama-3.1-8b", "h100-sxm", 256


def _points(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    return list(zip(rng.integers(1, 257, n).tolist(), rng.integers(64, 1025, n).tolist(), strict=True))


def _rate(fn, points) -> tuple[float, float]:
    """(calls per wall second, calls per CPU second of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    for b, p in points:
        fn(b, p)
    return len(points) / (time.perf_counter() - start), len(points) / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    model, hw = perfsim.load_model(MODEL), perfsim.load_hardware(HARDWARE)
    calls = {
        "generate": lambda b, p: perfsim.generate(model, hw, b, p, OUTPUT_LEN, check_memory=False),
        "decode_step": lambda b, p: perfsim.decode_step(model, hw, b, p, check_memory=False),
        "generate by id": lambda b, p: perfsim.generate(MODEL, HARDWARE, b, p, OUTPUT_LEN,
                                                        check_memory=False),
    }
    rng = np.random.default_rng(0)
    warm = _points(rng, args.calls)
    for fn in calls.values():
        _rate(fn, warm)
    rates: dict[str, list[float]] = {name: [] for name in calls}
    cpu_rates: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, fn in calls.items():
            wall, cpu = _rate(fn, _points(rng, args.calls))
            rates[name].append(wall)
            cpu_rates[name].append(cpu)
    print(
        f"{MODEL} on {HARDWARE}: {args.calls} fresh random points per round, {args.rounds} interleaved rounds"
    )
    print(f"  {'call':<54}{'median/s':>10}{'min/s':>10}{'max/s':>10}{'per CPU s':>11}")
    for name, values in rates.items():
        label = f"{name} (batch 1-256, prompt 64-1024" + (", 256 out)" if "generate" in name else ")")
        print(f"  {label:<54}{statistics.median(values):>10,.0f}{min(values):>10,.0f}{max(values):>10,.0f}"
              f"{statistics.median(cpu_rates[name]):>11,.0f}")


if __name__ == "__main__":
    main()
