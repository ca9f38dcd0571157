"""Wall time of simulated RL steps with 8,192 rollouts, and how speculation's benefit depends on
the generation batch. Prints medians (and min-max) of --runs interleaved repetitions in this one process.

Run: python benchmarks/bench_rollout.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from perfsim.decoding import Speculative
from perfsim.rollout import RolloutConfig, simulate_rollouts

STEP = dict(steps=1, prompts_per_step=512, samples_per_prompt=16, prompt_len=256,
            output_len="lognormal:1500:1.0:10000000", max_output_len=8192)
CASES = {
    "qwen3-8b, 32x b200 (32 engines), AR": ("b200", dict(generation_gpus=32, training_gpus=32)),
    "qwen3-8b, 32x b200, EAGLE k=3": ("b200", dict(generation_gpus=32, training_gpus=32,
                                                   decoding=Speculative(k=3, acceptance=0.68))),
    "qwen3-8b, 8x h100 (KV-bound, preempting), AR": ("h100-sxm", dict(generation_gpus=8, training_gpus=8)),
}


def wall_times(runs: int) -> None:
    """The cases run interleaved, one of each per round; wall (median, min-max) and CPU seconds."""
    walls: dict[str, list[float]] = {label: [] for label in CASES}
    cpus: dict[str, list[float]] = {label: [] for label in CASES}
    summaries = {}
    for _ in range(runs):
        for label, (hw, fields) in CASES.items():
            start, cpu = time.perf_counter(), time.process_time()
            summaries[label] = simulate_rollouts("qwen3-8b", hw, RolloutConfig(**STEP, **fields)).summary()
            walls[label].append(time.perf_counter() - start)
            cpus[label].append(time.process_time() - cpu)
    print(f"one simulated RL step of 8,192 rollouts (512 prompts x 16), lognormal lengths, cap 8k; "
          f"{runs} interleaved rounds (goal: under 1 s)")
    print(f"  {'case':<48}{'wall s (min-max)':>20}{'CPU s':>8}  {'simulated gen s':>15} {'preemptions':>11}")
    for label in CASES:
        w = walls[label]
        spread = f"{statistics.median(w):.2f} ({min(w):.2f}-{max(w):.2f})"
        print(f"  {label:<48}{spread:>20}{statistics.median(cpus[label]):>8.2f}  "
              f"{summaries[label]['generation_s']:>15.1f} {summaries[label]['preemptions']:>11}")


def speculation_vs_batch() -> None:
    print("EAGLE k=3 (alpha 0.68) generation speed-up over AR vs rollouts per engine (qwen3-8b, 8x b200)")
    for prompts in (4, 32, 128, 512):
        fields = dict(STEP, prompts_per_step=prompts, generation_gpus=8, training_gpus=8)
        ar = simulate_rollouts("qwen3-8b", "b200", RolloutConfig(**fields)).summary()["generation_s"]
        spec = simulate_rollouts("qwen3-8b", "b200", RolloutConfig(
            **fields, decoding=Speculative(k=3, acceptance=0.68))).summary()["generation_s"]
        print(f"  {prompts * 16 // 8:>5} rollouts/engine: AR {ar:7.1f} s, EAGLE {spec:7.1f} s, "
              f"speed-up {ar / spec:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timing-only", action="store_true", help="skip the speed-up table")
    args = parser.parse_args()
    wall_times(args.runs)
    if not args.timing_only:
        print()
        speculation_vs_batch()


if __name__ == "__main__":
    main()
