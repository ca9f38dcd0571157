"""Price mapped rows with a profile, and fit one runtime's calibration on the "fit" half.

Families are fitted in `FAMILIES` order, each group of labels whose parameters overlap together
(e.g. every GEMM dtype shares k_half and the tile efficiencies), on top of what earlier groups
fitted; the result is one runtime's `fitted` map. Quality is always reported on the "test" half.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.fit import fit_parameters, with_fitted
from perfsim.calibration.tables.load import FAMILIES

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

#: Fit rows used per label (deterministic: the lowest shape hashes), to bound fit time.
FIT_ROWS_PER_LABEL = 300


def predict(hw: HardwareProfile, rows: pd.DataFrame) -> np.ndarray:
    """Predicted seconds for every row (any mix of families and runtimes)."""
    out = np.zeros(len(rows))
    positions = np.arange(len(rows))
    for (folder, runtime, _label), group in rows.groupby(["folder", "runtime", "family"], sort=False):
        idx = positions[rows.index.get_indexer(group.index)]
        out[idx] = FAMILIES[str(folder)].predict(hw, group, str(runtime))
    return out


def errors(predicted: np.ndarray, measured: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(predicted) / np.asarray(measured) - 1.0)


def summary(rows: pd.DataFrame, predicted: np.ndarray, by: tuple[str, ...]) -> pd.DataFrame:
    """n, median and p90 |predicted/measured - 1| per group."""
    frame = rows.assign(err=errors(predicted, rows["measured_s"].to_numpy()))
    grouped = frame.groupby(list(by))["err"]
    return grouped.agg(n="size", median=lambda e: float(np.median(e)),
                       p90=lambda e: float(np.percentile(e, 90))).reset_index()


def _fit_groups(rows: pd.DataFrame, hw: HardwareProfile, runtime: str):
    """(labels, bounds) per group of labels with overlapping parameters, in family order."""
    groups: list[tuple[list[str], dict]] = []
    for folder, family in FAMILIES.items():
        in_family = rows[rows["folder"] == folder]
        for label, label_rows in in_family.groupby("family", sort=True):
            bounds = family.params(label_rows, hw, runtime)
            merged = [g for g in groups if set(g[1]) & set(bounds)]
            labels, joined = [str(label)], dict(bounds)
            for g in merged:
                labels += g[0]
                joined |= g[1]
                groups.remove(g)
            groups.append((labels, joined))
    order = list(FAMILIES)
    return sorted(groups, key=lambda g: (order.index(rows[rows["family"] == g[0][0]]["folder"].iloc[0]),
                                         all(_refines(p) for p in g[1]),
                                         not any(p in _SHARED_REFINEMENTS for p in g[1])))


#: Refinements that several later groups pay for, so fitted first among refinements (the fp8
#: query pass is seen clearly on prefill and is paid by decode too).
_SHARED_REFINEMENTS = ("attention.kv_fp8.query_quant_e_bw",)


def _refines(path: str) -> bool:
    """Figures that refine others (fp8-KV attention, per-tensor fp8 MoE) are fitted after the
    ones they refine."""
    return any(part in path for part in (".kv_fp8.", ".per_tensor_fp8.", ".block_fp8."))


def fit_runtime(hw: HardwareProfile, rows: pd.DataFrame, runtime: str) -> dict[str, float]:
    """One runtime's fitted efficiencies from its "fit" rows (rows of other runtimes ignored)."""
    own = rows[(rows["runtime"] == runtime) & (rows["split"] == "fit")]
    fitted: dict[str, float] = {}
    for labels, bounds in _fit_groups(own, hw, runtime):
        subset = own[own["family"].isin(labels)].groupby("family", group_keys=False).head(FIT_ROWS_PER_LABEL)
        base = with_fitted(hw, fitted)
        measured = subset["measured_s"].to_numpy()
        def priced(profile: HardwareProfile, s: pd.DataFrame = subset) -> np.ndarray:
            return predict(profile, s)

        trial = fit_parameters(base, bounds, priced, measured)
        if _improves(subset, predict(base, subset), predict(with_fitted(base, trial), subset)):
            fitted |= trial
    return fitted


#: A group's fit is kept only if no label in it gets worse by more than this (relative) on the
#: fit half: shared parameters must not buy one kernel's accuracy with another's.
MAX_LABEL_WORSENING = 0.25


def _improves(rows: pd.DataFrame, before: np.ndarray, after: np.ndarray) -> bool:
    """Judged on the fit half only (the test half is never looked at here): the group's median
    error falls and no label's median rises by more than MAX_LABEL_WORSENING (+1 point)."""
    measured = rows["measured_s"].to_numpy()
    e_before, e_after = errors(before, measured), errors(after, measured)
    if np.median(e_after) >= np.median(e_before):
        return False
    labels = rows["family"].to_numpy()
    return all(np.median(e_after[labels == label]) <= np.median(e_before[labels == label])
               * (1 + MAX_LABEL_WORSENING) + 0.01 for label in np.unique(labels))
