"""Expert-parallel MoE fidelity against vLLM's measured fused-MoE kernels on H100 SXM.

aiconfigurator-core's vLLM MoE table (collector/vllm/collect_moe.py) times `fused_experts` on one
GPU holding rank 0's num_experts / moe_ep_size experts, each sliced moe_tp_size ways, for
`num_tokens` tokens that all reach that GPU (router logits given, so no router GEMM): exactly
perfsim's expert parallelism at data parallelism 1 (`MoE(..., expert_parallel=EP).without_router()`,
with vLLM's `kernels.moe_expert_parallel: every_copy`: the Triton kernel walks every token's copies).
vLLM has no rows with both TP and EP > 1 (its collector skips them).

Printed, for bf16 rows:
1. n, median and p90 |predicted / measured - 1| for EP = 1 and EP > 1 rows under balanced routing
   (the table's `balanced` logits spread tokens evenly, while perfsim prices the busiest rank of
   random uniform routing, so small-token rows are expected to read high);
2. the EP-vs-TP question itself: at the same GPU count g, measured t(EP=g) / t(TP=g) against
   perfsim's, per token count (median over shapes);
3. how much power-law routing (alpha 1.2, rank 0 the hottest) slows the EP module over balanced:
   the measured factor is what `--ep-imbalance` stands for.

Only the h100_sxm tables are read (perfsim.calibration.tables.reader refuses the held-out systems).

    pip install aiconfigurator-core==0.12.0      # or pass --source <the wheel or an unpacked tree>
    python benchmarks/fidelity_expert_parallel.py [--source WHEEL_OR_TREE]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from perfsim.calibration.tables.reader import TableSource
from perfsim.io.load import load_hardware, load_runtime
from perfsim.ops import MoE
from perfsim.spec.deployment import Execution

SHAPE = ["hidden_size", "inter_size", "num_experts", "topk"]


def measured_rows(source: TableSource) -> tuple[pd.DataFrame, str]:
    raw, version = source.read("h100_sxm", "moe", "vllm", "moe_perf.parquet")
    rows = raw[(raw["moe_dtype"] == "bfloat16") & (raw["inter_size"] % raw["moe_tp_size"] == 0)
               & (raw["num_experts"] % raw["moe_ep_size"] == 0)].copy()
    rows["measured_s"] = rows["latency"].astype(float) * 1e-3
    return rows, version


def predict(rows: pd.DataFrame, hw, every_copy: bool) -> np.ndarray:
    out = np.zeros(len(rows))
    keys = [*SHAPE, "moe_tp_size", "moe_ep_size"]
    for (h, inter, e, k, tp, ep), group in rows.groupby(keys, sort=False):
        op = MoE(group["num_tokens"].to_numpy(float), int(h), int(inter) // int(tp), int(e), int(k),
                 expert_parallel=int(ep), every_copy=every_copy).without_router()
        out[rows.index.get_indexer(group.index)] = np.broadcast_to(op.time(hw), (len(group),))
    return out


def error_table(rows: pd.DataFrame) -> pd.DataFrame:
    err = (rows["predicted_s"] / rows["measured_s"] - 1).abs()
    by = np.where(rows["moe_ep_size"] > 1, "EP > 1", "EP = 1")
    table = err.groupby(by).agg(n="size", median=lambda s: s.median(), p90=lambda s: s.quantile(0.9))
    many = err[(rows["moe_ep_size"] > 1) & (rows["num_tokens"] >= 64)]
    table.loc["EP > 1, >= 64 tokens"] = [len(many), many.median(), many.quantile(0.9)]
    return table


def ep_vs_tp(rows: pd.DataFrame) -> pd.DataFrame:
    """t(EP=g, TP=1) / t(TP=g, EP=1) per shape and token count, measured and predicted."""
    tp = rows[(rows["moe_ep_size"] == 1) & (rows["moe_tp_size"] > 1)]
    ep = rows[(rows["moe_tp_size"] == 1) & (rows["moe_ep_size"] > 1)]
    keys = [*SHAPE, "num_tokens", "gpus"]
    pairs = tp.assign(gpus=tp["moe_tp_size"]).merge(ep.assign(gpus=ep["moe_ep_size"]), on=keys,
                                                    suffixes=("_tp", "_ep"))
    pairs["measured"] = pairs["measured_s_ep"] / pairs["measured_s_tp"]
    pairs["predicted"] = pairs["predicted_s_ep"] / pairs["predicted_s_tp"]
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="aiconfigurator-core wheel or unpacked tree [installed package]")
    args = parser.parse_args()
    try:
        source = TableSource.locate(args.source)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows, version = measured_rows(source)
    hw = load_hardware("h100-sxm").for_runtime("vllm")
    every_copy = Execution.of(load_runtime("vllm"), hw).moe_ep_every_copy
    rows["predicted_s"] = predict(rows, hw, every_copy)
    balanced = rows[rows["distribution"] == "balanced"]
    print(f"vLLM {version} fused MoE, bf16, h100_sxm (aiconfigurator-core tables); profile {hw.id}\n")
    print("1. |predicted / measured - 1|, balanced routing")
    print(error_table(balanced).to_string(float_format=lambda v: f"{v:.3f}"))
    local = error_table(balanced.assign(predicted_s=predict(balanced, hw, not every_copy)))
    print(f"   (with moe_expert_parallel {'local_copies' if every_copy else 'every_copy'} instead: EP > 1 "
          f"median {local.loc['EP > 1', 'median']:.3f}, p90 {local.loc['EP > 1', 'p90']:.3f})\n")
    pairs = ep_vs_tp(balanced)
    print(f"2. t(EP=g) / t(TP=g) at the same GPU count g ({len(pairs)} matched rows); median over shapes")
    table = pairs.groupby(["gpus", "num_tokens"])[["measured", "predicted"]].median()
    table = table[table.index.get_level_values("num_tokens").isin([1, 8, 64, 512, 4096, 16384])]
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    agree = np.mean(np.sign(np.log(pairs["measured"])) == np.sign(np.log(pairs["predicted"])))
    print(f"   same winner (EP or TP) in {agree:.0%} of matched rows; median |ratio error| "
          f"{(pairs['predicted'] / pairs['measured'] - 1).abs().median():.3f}\n")
    shape = [*SHAPE, "moe_tp_size", "moe_ep_size", "num_tokens"]
    skew = rows[rows["moe_ep_size"] > 1].pivot_table(index=shape, columns="distribution",
                                                     values="measured_s")
    if {"balanced", "power_law_1.2"} <= set(skew.columns):
        factor = (skew["power_law_1.2"] / skew["balanced"]).dropna()
        by_ep = factor.groupby(level="moe_ep_size").median()
        print("3. measured slowdown of power-law (alpha 1.2) routing over balanced, EP > 1, median by EP")
        print(by_ep.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
