"""Speed of a 100,000-design sweep (figure for the README; never asserted in tests).

100 generated architectures (10 depths x 10 widths) x 10 batches x 10 prompt lengths x 10 output
lengths on H100, each point with TTFT, TPOT, end-to-end latency, throughput, memory, fit,
max-batch throughput and scaling-law accuracy. Prints the median of a few runs per executor.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 3] [--executor local --executor process]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from perfsim import sweep

SPACE = {
    "architecture": {"n_layers": 12, "hidden_size": 1024, "vocab_size": 32000},
    "hardware": "h100-sxm",
    "accuracy": {"name": "scaling_law", "training_tokens": 1.0e11},
    "parameters": {
        "architecture.n_layers": {"low": 4, "high": 40, "step": 4},
        "architecture.hidden_size": {"low": 512, "high": 4096, "step": 384},
        "workload.batch": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
        "workload.prompt_len": [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768],
        "workload.output_len": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executor", action="append", choices=["local", "process"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores")
    for executor in args.executor or ["local", "process"]:
        times, rows = [], 0
        for _ in range(args.runs):
            start = time.perf_counter()
            rows = len(sweep(SPACE, executor=executor))
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(
            f"{executor:8s} {rows:,} designs: median {median:.2f} s over {args.runs} runs "
            f"({rows / median:,.0f} designs/s; runs {', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
