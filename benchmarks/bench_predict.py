"""Predictor speed: vectorised evaluations per second and single-call latency (medians).

Run: python benchmarks/bench_predict.py   (goal, issue 24: >= 1,000,000 vectorised evaluations/s)

The single calls repeat one point, so after the first they are served by the step plan's tables
(perfsim.cost.plan); benchmarks/bench_scalar.py times fresh random points instead.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import perfsim

REPEATS = 5


def _seconds(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _median_seconds(fn, repeats: int) -> float:
    return statistics.median(_seconds(fn, repeats))


def main() -> None:
    models = ["llama-3.1-8b", "nemotron-h-8b", "qwen3-30b-a3b", "gpt-oss-20b"]
    hardware = ["h100-sxm", "a10g"]
    batch, context = np.arange(1, 257), np.arange(128, 32769, 128)
    points = len(models) * len(hardware) * len(batch) * len(context)
    perfsim.evaluate_grid(models[:1], hardware[:1], [1], [128])  # load and cache YAML once
    runs = _seconds(lambda: perfsim.evaluate_grid(models, hardware, batch, context), REPEATS)
    grid_s = statistics.median(runs)
    print(f"vectorised grid: {points:,} points (4 models x 2 devices x 256 batch x 256 context)")
    print(f"  median {grid_s:.3f} s over {REPEATS} runs (min {min(runs):.3f}, max {max(runs):.3f}) -> "
          f"{points / grid_s:,.0f} evaluations/s ({points / max(runs):,.0f}-{points / min(runs):,.0f})")

    model, hw = perfsim.load_model("llama-3.1-8b"), perfsim.load_hardware("h100-sxm")
    step = perfsim.StepBatch(decode_seqs=32, decode_context=4096)
    scalar = _median_seconds(lambda: perfsim.step_latency(model, hw, step), 200)
    full = _median_seconds(lambda: perfsim.decode_step(model, hw, 32, 4096), 50)
    request = _median_seconds(lambda: perfsim.generate(model, hw, 32, 2048, 512), 20)
    print("single calls (llama-3.1-8b on h100-sxm, median):")
    print(f"  step_latency (no breakdown)          {scalar * 1e3:8.2f} ms")
    print(f"  decode_step (with breakdown, memory) {full * 1e3:8.2f} ms")
    print(f"  generate (prefill + 511 decode steps) {request * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
