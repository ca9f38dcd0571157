"""Wall time of simulated RL steps with 8,192 rollouts, and how speculation's benefit depends on
the generation batch. Prints medians of --runs repetitions measured in this one process.

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
    print("one simulated RL step of 8,192 rollouts (512 prompts x 16), lognormal lengths, cap 8k")
    print(f"  {'case':<48}{'median s':>10}{'min s':>8}  {'simulated gen s':>15} {'preemptions':>11}")
    for label, (hw, fields) in CASES.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            summary = simulate_rollouts("qwen3-8b", hw, RolloutConfig(**STEP, **fields)).summary()
            times.append(time.perf_counter() - start)
        print(f"  {label:<48}{statistics.median(times):>10.2f}{min(times):>8.2f}  "
              f"{summary['generation_s']:>15.1f} {summary['preemptions']:>11}")


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
    args = parser.parse_args()
    wall_times(args.runs)
    print()
    speculation_vs_batch()


if __name__ == "__main__":
    main()
