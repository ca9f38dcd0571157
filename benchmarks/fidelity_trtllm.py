"""Serving-simulator fidelity against TensorRT-LLM v0.17's published maximum-throughput table:
real GPU measurements (H100, H200, L40S, A100) of Llama-3.1 8B/70B/405B, Mistral 7B and
Mixtral 8x7B/8x22B at TP 1-8 and nine ISL/OSL pairs. Nothing here is fitted to the table.

Run: python benchmarks/fidelity_trtllm.py [--gpu h100 --gpu h200 ...] [--rows] [--out rows.csv]

Each cell replays the benchmark's own recipe (benchmarks/data/trtllm_v0.17_throughput.csv, and the
source document's "Reproducing" section): `num_requests` requests of fixed ISL/OSL all queued at
t=0 on one TP group, FP8 weights, activations and KV cache (A100: FP16), under the runtime
`trtllm-bench` (runtimes/trtllm-bench.yaml, `base: tensorrt-llm`): TensorRT-LLM's kernels and
GUARANTEED_NO_EVICT capacity scheduler, KV pool = 0.95 of free memory
(`--kv_cache_free_gpu_mem_fraction 0.95`), 8192 batched tokens with chunked context and a
4096-sequence batch limit (the trtllm-bench engine report in the same document).
Assumed: the engine-build heuristic's max batch and token limits for each cell are not published;
GH200 has no perfsim profile and is skipped.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import pandas as pd

import perfsim
from perfsim import apply_transforms
from perfsim.explore.compare import offline_throughput_per_gpu
from perfsim.transforms import FP8_W8A8

DATA = Path(__file__).parent / "data" / "trtllm_v0.17_throughput.csv"
#: The benchmark's own recipe as a runtime profile (runtimes/trtllm-bench.yaml: `base: tensorrt-llm`).
RUNTIME = "trtllm-bench"
PROFILES = {"h100": "h100-sxm", "h200": "h200-sxm", "l40s": "l40s", "a100": "a100-sxm-80gb"}
#: (ISL, OSL) -> requests, from the document's dataset table
REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (500, 2000): 3000,
            (1000, 1000): 3000, (2048, 128): 3000, (2048, 2048): 1500, (5000, 500): 1500,
            (20000, 2000): 1000}


def published(gpus: list[str]) -> pd.DataFrame:
    wide = pd.read_csv(DATA, comment="#")
    long = wide.melt(id_vars=["model", "tp", "isl", "osl"], value_vars=gpus, var_name="gpu",
                     value_name="published_tok_s")
    return long.dropna(subset=["published_tok_s"]).reset_index(drop=True)


def predict(model_id: str, gpu: str, tp: int, isl: int, osl: int) -> float:
    """Output tokens/s of the whole TP group (A100 ran FP16, the rest FP8)."""
    model = model_id if gpu == "a100" else apply_transforms(model_id, FP8_W8A8)
    per_gpu, _, _ = offline_throughput_per_gpu(model, PROFILES[gpu], isl, osl, requests=REQUESTS[(isl, osl)],
                                               tensor_parallel=(tp,), runtime=RUNTIME)
    return per_gpu * tp


def evaluate(gpus: list[str]) -> pd.DataFrame:
    rows = published(gpus)
    predicted = []
    for r in rows.itertuples():
        try:
            predicted.append(predict(r.model, r.gpu, r.tp, r.isl, r.osl))
        except perfsim.PerfsimInputError as err:  # perfsim says it does not fit: report, do not drop
            print(f"  {r.gpu} {r.model} TP{r.tp} {r.isl}/{r.osl}: {err}")
            predicted.append(math.nan)
    rows["predicted_tok_s"] = predicted
    rows["ratio"] = rows.predicted_tok_s / rows.published_tok_s
    return rows


def summarise(rows: pd.DataFrame) -> None:
    print(f"{'gpu':<5} {'model':<15} {'TP':>2} {'cells':>5} {'median pred/pub':>16} {'min':>6} {'max':>6}")
    for (gpu, model, tp), part in rows.groupby(["gpu", "model", "tp"], sort=False):
        r = part.ratio.dropna()
        if len(r):
            print(f"{gpu:<5} {model:<15} {tp:>2} {len(r):>5} {r.median():>16.2f} {r.min():>6.2f} "
                  f"{r.max():>6.2f}")
        else:
            print(f"{gpu:<5} {model:<15} {tp:>2} {0:>5} {'(does not fit)':>16}")
    print()
    for gpu, part in rows.groupby("gpu", sort=False):
        _overall(f"{gpu} ({PROFILES[gpu]})", part.ratio)
    _overall("all", rows.ratio)


def _overall(label: str, ratio: pd.Series) -> None:
    r = ratio.dropna()
    errors = (r - 1).abs()
    print(f"{label:<22} cells {len(r):>3}  median pred/pub {r.median():.2f}  median |error| "
          f"{statistics.median(errors):.1%}  within 20 %: {(errors <= 0.2).mean():.0%}  "
          f"within 35 %: {(errors <= 0.35).mean():.0%}  not predicted: {ratio.isna().sum()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="append", choices=sorted(PROFILES), help="default: all four")
    parser.add_argument("--rows", action="store_true", help="print every cell")
    parser.add_argument("--out", help="write every cell to this CSV")
    args = parser.parse_args()
    rows = evaluate(args.gpu or list(PROFILES))
    if args.rows:
        with pd.option_context("display.max_rows", None, "display.width", 160):
            print(rows.round({"predicted_tok_s": 0, "ratio": 2}).to_string(index=False))
        print()
    summarise(rows)
    if args.out:
        rows.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
