"""Depth-width frontier at a fixed parameter budget (Nemotron-Flash, arXiv 2511.18890, section 3).

Llama-style designs of ~1.0B parameters at depths 4..48 (width and FFN sized to the budget), scored
by the scaling-law accuracy model (100B training tokens, as in the paper's depth-width study) and
priced on H100, A10G and Jetson AGX Orin: batch-1 latency of a 256-token prompt plus 8192 decoded
tokens (the paper's latency setting), and H100 throughput at the largest batch that fits.

    .venv/bin/python examples/depth_width_frontier.py [--plot docs/depth_width_frontier.png]
"""

from __future__ import annotations

import argparse

import pandas as pd

from perfsim import HybridDesign, evaluate_frontier, pareto_mask

BUDGET_PARAMS = 1.0e9
DEPTHS = (4, 6, 8, 12, 16, 20, 24, 32, 40, 48)
DEVICES = ("h100-sxm", "a10g", "jetson-agx-orin-64gb")
ACCURACY = {"name": "scaling_law", "training_tokens": 1.0e11}
VOCAB = 32000


def design_at(depth: int) -> HybridDesign:
    """Width ~ sqrt(budget / (12 depth)) in steps of 256 (head dim 64, GQA 4:1); the SwiGLU FFN
    ratio takes up the rest of the budget so every depth has the same parameter count."""
    width = max(256, round((BUDGET_PARAMS / (12 * depth)) ** 0.5 / 256) * 256)
    per_layer = (BUDGET_PARAMS - VOCAB * width) / depth
    attention = 2.5 * width * width  # q, o: W^2 each; k, v: W^2 / 4 each
    ratio = (per_layer - attention - 2 * width) / (3 * width * width)
    return HybridDesign(
        n_layers=depth,
        hidden_size=width,
        ffn_ratio=round(ratio, 3),
        num_heads=width // 64,
        vocab_size=VOCAB,
        name=f"depth {depth:2d} x width {width}",
    )


def frontier() -> pd.DataFrame:
    designs = [design_at(d) for d in DEPTHS]
    frame = evaluate_frontier(
        designs, list(DEVICES), batch=1, prompt_len=256, output_len=8192, accuracy=ACCURACY
    )
    frame["depth"] = frame["design"].str.extract(r"depth\s+(\d+)")[0].astype(int)
    # large batch: time per generated token at max-batch throughput, front per device
    frame["s_per_token_max_batch"] = 1.0 / frame["max_batch_tokens_per_s"]
    frame["on_front_max_batch"] = False
    for _, idx in frame.groupby("hardware").groups.items():
        frame.loc[idx, "on_front_max_batch"] = pareto_mask(
            frame.loc[idx], {"s_per_token_max_batch": "min", "accuracy": "max"}
        )
    return frame


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for hw, part in frame.groupby("hardware", sort=False):
        best_acc = part.loc[part["accuracy"].idxmax()]
        rows.append(
            {
                "hardware": hw,
                "accuracy_optimal_depth": int(best_acc["depth"]),
                "latency_optimal_depth_bs1": int(part.loc[part["e2e_s"].idxmin(), "depth"]),
                "front_depths_bs1": sorted(part.loc[part["on_front"], "depth"]),
                "throughput_optimal_depth_max_batch": int(
                    part.loc[part["max_batch_tokens_per_s"].idxmax(), "depth"]
                ),
                "front_depths_max_batch": sorted(part.loc[part["on_front_max_batch"], "depth"]),
            }
        )
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for hw, part in frame.groupby("hardware", sort=False):
        part = part.sort_values("depth")
        rel = part["e2e_s"] / part["e2e_s"].min()
        axes[0].plot(rel, part["accuracy"], "o-", label=hw)
        for x, y, d in zip(rel, part["accuracy"], part["depth"], strict=True):
            axes[0].annotate(str(d), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
        rel_tp = part["s_per_token_max_batch"] / part["s_per_token_max_batch"].min()
        axes[1].plot(rel_tp, part["accuracy"], "s-", label=hw)
        for x, y, d in zip(rel_tp, part["accuracy"], part["depth"], strict=True):
            axes[1].annotate(str(d), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    axes[0].set_xlabel("batch-1 latency, 256 + 8192 tokens (relative to the fastest depth)")
    axes[1].set_xlabel("time per token at max-batch throughput (relative to the best depth)")
    for ax in axes:
        ax.set_ylabel("scaling-law accuracy proxy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Depth-width at {BUDGET_PARAMS / 1e9:.1f}B parameters (labels: depth); perfsim prediction")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="save the figure here (needs matplotlib)")
    args = parser.parse_args()
    frame = frontier()
    cols = [
        "hardware",
        "depth",
        "params",
        "accuracy",
        "e2e_s",
        "on_front",
        "max_batch",
        "max_batch_tokens_per_s",
        "on_front_max_batch",
    ]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(frame[cols].to_string(index=False))
        print()
        print(summary(frame).to_string(index=False))
    if args.plot:
        plot(frame, args.plot)


if __name__ == "__main__":
    main()
