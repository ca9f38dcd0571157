"""Serving-simulator speed and memory: 10,000 Poisson requests on Llama-3.1-8B / H100.

Run: python benchmarks/bench_serving.py
Goal: >= 5,000 simulated requests per wall second on 2 cores, with memory that does not grow
with completed requests (the peak is compared at 10,000 and 40,000 requests).
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import perfsim
from perfsim.sim import LogNormal

RATE_REQ_S = 20.0  # about 60 % of this pair's capacity: ~160 requests in flight, no preemption
REPEATS = 3


def workload(num_requests: int) -> perfsim.Poisson:
    return perfsim.Poisson(RATE_REQ_S, num_requests=num_requests,
                           prompt_len=LogNormal(1024, 0.6, max_tokens=8192),
                           output_len=LogNormal(256, 0.6, max_tokens=2048))


def run(num_requests: int):
    return perfsim.simulate_serving("llama-3.1-8b", "h100-sxm", workload(num_requests), seed=0)


def main() -> None:
    run(100)  # load YAML and warm caches
    walls, result = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run(10_000)
        walls.append(time.perf_counter() - start)
    wall = statistics.median(walls)
    summary = result.summary()
    print(f"10,000 Poisson requests at {RATE_REQ_S:g} req/s, Llama-3.1-8B on H100 SXM (vLLM-style engine)")
    print(f"  simulated {summary['duration_s']:.0f} s of serving, {summary['iterations']:,} iterations, "
          f"{summary['running_mean']:.0f} requests running on average")
    print(f"  wall median {wall:.2f} s over {REPEATS} runs (min {min(walls):.2f}, max {max(walls):.2f}) "
          f"-> {10_000 / wall:,.0f} simulated requests/s (goal >= 5,000)")
    print(f"  TTFT mean {summary['ttft_mean_s'] * 1e3:.1f} ms, "
          f"TPOT mean {summary['tpot_mean_s'] * 1e3:.2f} ms, "
          f"throughput {summary['throughput_tok_s']:,.0f} tok/s")
    peaks = {}
    for n in (10_000, 40_000):
        tracemalloc.start()
        run(n)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"  peak traced memory: {peaks[10_000] / 2**20:.1f} MiB at 10,000 requests, "
          f"{peaks[40_000] / 2**20:.1f} MiB at 40,000 (the cost tables built at set-up dominate; "
          f"per-request state is a metrics row)")


if __name__ == "__main__":
    main()
