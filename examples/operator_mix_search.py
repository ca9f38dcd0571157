"""Operator-mix search under a latency budget (the Nemotron-Flash evolutionary search, in spirit).

NSGA-II over hybrid stacks of 6-24 layers: per layer a mixer (attention, sliding window, Mamba2,
DeltaNet, Gated DeltaNet, GLA) and an FFN (MLP or MoE), width, FFN ratio and heads, under
<= 1.0B parameters and a batch-1 end-to-end budget on H100 (1024-token prompt, 256 generated).

    .venv/bin/python examples/operator_mix_search.py [--budget 150] [--latency-s 0.25]
"""

from __future__ import annotations

import argparse

import pandas as pd

from perfsim import search

SPACE = {
    "architecture": {"n_layers": 12, "hidden_size": 1024, "vocab_size": 32000},
    "hardware": "h100-sxm",
    "workload": {"batch": 1, "prompt_len": 1024, "output_len": 256},
    "accuracy": {"name": "scaling_law", "training_tokens": 1.0e11},
    "search": {
        "n_layers": {"low": 6, "high": 24},
        "hidden_size": {"low": 768, "high": 3072, "step": 256},
        "ffn_ratio": {"low": 2.0, "high": 4.0, "step": 0.5},
        "num_heads": [8, 16],
        "mixers": ["attention", "sliding_window", "mamba2", "deltanet", "gated_deltanet", "gla"],
        "ffns": ["mlp", "moe"],
    },
    "objectives": {"e2e_s": "min", "accuracy": "max"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=150, help="trials")
    parser.add_argument("--latency-s", type=float, default=0.25, help="batch-1 end-to-end budget")
    args = parser.parse_args()
    result = search(
        SPACE,
        budget=args.budget,
        seed=0,
        constraints={"params": {"max": 1.0e9}, "e2e_s": {"max": args.latency_s}},
    )
    front = result.front
    mix = front["mixers"].str.split(",").explode().value_counts(normalize=True).round(2)
    with pd.option_context("display.width", 160):
        print(
            front[["design", "params", "e2e_s", "max_batch_tokens_per_s", "accuracy"]].to_string(index=False)
        )
        print(
            f"\n{len(front)} front designs of {len(result.trials)} trials "
            f"({result.trials['feasible'].mean():.0%} feasible); mixer share on the front:"
        )
        print(mix.to_string())
    assert (front["params"] <= 1.0e9).all() and (front["e2e_s"] <= args.latency_s).all()


if __name__ == "__main__":
    main()
