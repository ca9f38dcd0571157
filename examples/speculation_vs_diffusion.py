"""Is speculation or diffusion decoding better for this model at batch 1 / 32 / 256?

Qwen3-8B on H100 (512-token prompt, 256 generated): autoregressive, EAGLE-style speculation
(k = 3 with the 2.44 tokens/verify acceptance length SPEED-Bench reports for Llama-3.3-70B EAGLE-3 at
batch 32, papers-addendum section 3) and block diffusion at 2.6 tokens per forward (Fast-dLLM v2 at
threshold 0.9, papers.md section 3). Speedup is end-to-end time versus AR; the accuracy factor is
1 for lossless speculation and interpolated from published points for diffusion.

    .venv/bin/python examples/speculation_vs_diffusion.py [--model qwen3-8b] [--hardware h100-sxm]
"""

from __future__ import annotations

import argparse

import pandas as pd

from perfsim import evaluate_frontier
from perfsim.decoding import BlockDiffusion, Speculative

STRATEGIES = {
    "autoregressive": None,
    "speculative (EAGLE, k=3)": Speculative(k=3, mean_accepted_tokens=2.44, draft="eagle"),
    "block diffusion (2.6 tok/step)": BlockDiffusion(block_size=32, sub_block_size=8, tokens_per_step=2.6),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen3-8b")
    parser.add_argument("--hardware", default="h100-sxm")
    args = parser.parse_args()
    rows = []
    for batch in (1, 32, 256):
        base = None
        for name, strategy in STRATEGIES.items():
            row = evaluate_frontier(
                [args.model], args.hardware, batch=batch, prompt_len=512, decoding=strategy
            ).iloc[0]
            base = row["e2e_s"] if base is None else base
            rows.append(
                {
                    "batch": batch,
                    "decoding": name,
                    "e2e_s": row["e2e_s"],
                    "tokens_per_s": row["tokens_per_s"],
                    "speedup_vs_ar": base / row["e2e_s"],
                    "accuracy": row["accuracy"],
                }
            )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for batch, part in table.groupby("batch"):
        if part["speedup_vs_ar"].isna().all():
            print(f"batch {batch}: does not fit in memory")
            continue
        best = part.loc[part["speedup_vs_ar"].idxmax()]
        print(f"batch {batch}: fastest is {best['decoding']} ({best['speedup_vs_ar']:.2f}x vs AR)")


if __name__ == "__main__":
    main()
