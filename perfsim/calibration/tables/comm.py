"""All-reduce tables: the runtimes' custom all-reduce (custom_allreduce_perf.parquet) and NCCL's
(nccl_perf.parquet, runtime "nccl").

Collector facts (collector/network/collect_all_reduce.py, collect_nccl.py): latency in ms per
call; `message_size` counts elements (bf16 for the custom kernels, NCCL's half = 2 bytes or int8 =
1 byte), each GPU holding the whole message. Custom kernels are timed both as CUDA-graph replays
and eagerly; only graph replays are mapped (serving runs decode in graphs). NCCL's all_gather,
reduce_scatter and alltoall rows have no perfsim op yet and are not mapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import FRACTION, SECONDS, Bounds, Family, arr, finish, grouped_time
from perfsim.ops import AllReduce

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("num_gpus", "bytes_per_gpu")
_ELEMENT_BYTES = {"bfloat16": 2.0, "half": 2.0, "float16": 2.0, "int8": 1.0, "float32": 4.0}


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    kept = raw[raw["op_name"] == "all_reduce"]
    if "backend" in kept:
        kept = kept[kept["backend"].str.endswith("_graph")]
    dtype = kept["nccl_dtype"] if "nccl_dtype" in kept else kept["allreduce_dtype"]
    frame = kept.assign(bytes_per_gpu=kept["message_size"] * dtype.map(_ELEMENT_BYTES),
                        measured_s=kept["latency"].astype(float) * 1e-3,
                        family="allreduce_nccl" if runtime == "nccl" else "allreduce_custom")
    return finish(frame, _SHAPE)


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    # NCCL has no one-/two-shot kernel: its ring, once the ring's per-peer step is measured
    # (without it the op's fastest-algorithm prior stands in for NCCL's small-message protocols)
    ring = runtime == "nccl" and hw.efficiency_in_use.comm.ring_step_s is not None
    algorithm = "ring" if ring else "auto"
    return grouped_time(hw, frame, ("num_gpus",), lambda key, group: [
        AllReduce(arr(group, "bytes_per_gpu"), int(key[0]), algorithm)])


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    bounds = {"comm.allreduce_bus_eff": FRACTION, "comm.allreduce_latency_s": SECONDS}
    return bounds | ({"comm.ring_step_s": SECONDS} if runtime == "nccl" else {})


FAMILY = Family("comm", ("custom_allreduce_perf.parquet", "nccl_perf.parquet"), rows, predict, params)
