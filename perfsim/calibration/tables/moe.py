"""Fused MoE tables (moe_perf.parquet): the routed experts of one layer on one GPU.

Collector facts (collector/<framework>/collect_moe.py): latency in ms; the module is given router
logits, so top-k selection, token permutation, both grouped GEMMs, the activation and the combine
are timed but the router GEMM is not. `inter_size` is the whole expert's intermediate width, split
`moe_tp_size` ways. fp8 modules quantise their bf16 input tokens on the fly. Only rows without
expert parallelism and with balanced routing are mapped (the EP rows' balanced logits spread copies
evenly, where perfsim's EP prices the busiest rank of random routing, and fitting them with the
EP = 1 rows moved the shared figures against those rows); weight-only (int4/mxfp4) rows are left
to the weight-only model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import (
    DTYPES,
    FRACTION,
    SECONDS,
    Bounds,
    Family,
    arr,
    finish,
    grouped_time,
)
from perfsim.calibration.tables.gemm import activation_quant
from perfsim.ops import MoE

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("dtype", "scaling", "gated", "hidden_size", "inter_size", "num_experts", "topk", "num_tokens")
_GROUP = ("dtype", "scaling", "gated", "hidden_size", "inter_size", "num_experts", "topk", "runner")
#: Per-expert cost: 1 ns (no such cost) to 100 us.
EXPERT_SECONDS = (1e-9, 1e-4)


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    kept = raw[raw["moe_dtype"].isin(["bfloat16", "fp8", "fp8_block"]) & (raw["moe_ep_size"] == 1)
               & (raw["distribution"] == "balanced") & (raw["inter_size"] % raw["moe_tp_size"] == 0)]
    frame = kept.assign(
        dtype=kept["moe_dtype"].map(DTYPES),
        scaling=np.where(kept["moe_dtype"] == "fp8_block", "block",
                         np.where(kept["moe_dtype"] == "fp8", "tensor", "none")),
        gated=~kept["kernel_source"].str.contains("nongated"),
        inter_size=kept["inter_size"] // kept["moe_tp_size"],
        measured_s=kept["latency"].astype(float) * 1e-3)
    frame["family"] = "moe_" + frame["dtype"] + np.where(frame["scaling"] == "block", "_block", "")
    # bf16 experts SGLang hands to FlashInfer's CUTLASS runner are priced on that runner's path;
    # vLLM 0.24's per-tensor fp8 experts all run it, which the per_tensor_fp8 path already is
    cutlass = frame["kernel_source"].str.contains("flashinfer_cutlass") & (frame["scaling"] == "none")
    frame["runner"] = np.where(cutlass, "flashinfer_cutlass", "fused")
    return _with_runner(finish(frame, _SHAPE), frame)


def _with_runner(best: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The runner of each kept (fastest) row; not part of the shape, so the split is unchanged."""
    keys = ["family", *_SHAPE]
    fastest = frame.sort_values("measured_s").drop_duplicates(keys)[[*keys, "runner"]]
    return best.merge(fastest, on=keys, how="left", validate="one_to_one")


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        dtype, scaling, gated, hidden, inter, experts, topk, runner = key
        t = arr(group, "num_tokens")
        moe = MoE(t, int(hidden), int(inter), int(experts), int(topk), bool(gated), dtype,
                  weight_scaling="tensor" if scaling == "tensor" else "block", runner=str(runner))
        return [moe.without_router(), *activation_quant(t, float(hidden), scaling, runtime)]

    return grouped_time(hw, _runner_column(frame), _GROUP, ops)


def _runner_column(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows from elsewhere (a CSV, a test) without a runner run the default one."""
    return frame if "runner" in frame else frame.assign(runner="fused")


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    paths = {"tensor": "moe.per_tensor_fp8", "block": "moe.block_fp8"}  # own kernel paths
    scaling = str(frame["scaling"].iloc[0])
    prefix = paths[scaling] if scaling in paths and (frame["scaling"] == scaling).all() else "moe"
    prefixes = [prefix]
    if prefix == "moe" and (_runner_column(frame)["runner"] == "flashinfer_cutlass").any():
        prefixes.append("moe.flashinfer_cutlass")
    fields = (("grouped_gemm_e", FRACTION), ("mainloop_e", FRACTION), ("t_fixed_s", SECONDS),
              ("expert_s", EXPERT_SECONDS))
    return {f"{p}.{field}": bounds for p in prefixes for field, bounds in fields}


FAMILY = Family("moe", ("moe_perf.parquet",), rows, predict, params)
