"""What every kernel-family mapper provides, and the helpers they share.

A mapper turns one published table into *rows*: one per measured shape, with a `family` label
(e.g. "gemm_fp8"), the shape in perfsim's terms, `measured_s`, and `split` ("fit" or "test",
from a hash of the shape, so the same shape is held out on every runtime and device). It then
prices rows with the perfsim ops that do the same work, vectorised over groups of rows that share
their integer parameters (head counts, dims), and names the efficiency fields a fit may move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.ops.base import Op
    from perfsim.spec.hardware import HardwareProfile

Bounds = dict[str, tuple[float, float]]
#: Parameter ranges: efficiencies are fractions of peak, fixed costs seconds, lengths tokens.
FRACTION = (1e-3, 1.1)
SECONDS = (1e-8, 5e-3)
LENGTH = (1.0, 1e5)
#: aiconfigurator dtype names -> perfsim's.
DTYPES = {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "fp8": "fp8", "fp8_block": "fp8",
          "int8": "int8"}
#: Rows kept per family label and table (deterministic by shape hash) to bound fit time.
MAX_ROWS = 1500


@dataclass(frozen=True)
class Family:
    """One aiconfigurator family folder and how its rows map onto perfsim ops."""

    folder: str
    filenames: tuple[str, ...]
    #: raw table, runtime id -> rows (see module docstring)
    rows: Callable[[pd.DataFrame, str], pd.DataFrame]
    #: profile, rows of one label, runtime -> predicted seconds per row
    predict: Callable[[HardwareProfile, pd.DataFrame, str], np.ndarray]
    #: rows of one label, profile, runtime -> efficiency paths a fit may move, with bounds
    params: Callable[[pd.DataFrame, HardwareProfile, str], Bounds]


def shape_hash(frame: pd.DataFrame, shape_columns: Sequence[str]) -> np.ndarray:
    """A stable 64-bit hash per row of its shape (pandas' fixed-key hash, not Python's salted one;
    numbers hashed as float so 4096 and 4096.0 agree)."""
    import pandas as pd

    cols = {c: frame[c].astype(float) if pd.api.types.is_numeric_dtype(frame[c]) else frame[c].astype(str)
            for c in shape_columns}
    return pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()


def shape_split(frame: pd.DataFrame, shape_columns: Sequence[str]) -> np.ndarray:
    """"fit" or "test" per row from the shape hash's lowest bit."""
    return np.where(shape_hash(frame, shape_columns) % 2 == 0, "fit", "test")


def finish(frame: pd.DataFrame, shape_columns: Sequence[str]) -> pd.DataFrame:
    """Keep the fastest kernel per shape (what a tuned runtime dispatches), add the split, and
    thin each label to MAX_ROWS rows chosen by shape hash."""
    cols = ["family", *shape_columns]
    best = frame.groupby(cols, as_index=False, dropna=False)["measured_s"].min()
    best = best[best["measured_s"] > 0]
    hashed = shape_hash(best, shape_columns)
    best["split"] = np.where(hashed % 2 == 0, "fit", "test")
    best = best.assign(_rank=hashed >> 1).sort_values(["family", "_rank"])
    best = best.groupby("family", group_keys=False).head(MAX_ROWS)
    return best.drop(columns="_rank").reset_index(drop=True)


def grouped_time(hw: HardwareProfile, rows: pd.DataFrame, keys: Sequence[str],
                 ops: Callable[[tuple, pd.DataFrame], list[Op]]) -> np.ndarray:
    """Seconds per row: rows grouped by `keys` (integer parameters), each group priced as the sum
    of `ops(key, group)` evaluated on the group's shape arrays."""
    out = np.zeros(len(rows))
    positions = np.arange(len(rows))
    for key, group in rows.groupby(list(keys), sort=False, dropna=False):
        idx = positions[rows.index.get_indexer(group.index)]
        key_tuple = key if isinstance(key, tuple) else (key,)
        total = sum((np.asarray(op.time(hw), dtype=float) for op in ops(key_tuple, group)),
                    np.zeros(len(group)))
        out[idx] = np.broadcast_to(total, (len(group),))
    return out


def arr(group: pd.DataFrame, column: str) -> np.ndarray:
    return group[column].to_numpy(dtype=float)
