"""Latency-accuracy frontiers: evaluate designs on devices, attach accuracy, mark the Pareto set.

The Pareto filter is a numpy non-dominated scan (no extra dependency; the `paretoset` package pulls
in numba): a row is on the front when no other row is at least as good in every objective and
strictly better in one. Rows with a NaN objective (designs that do not fit) are never on it;
exact duplicates are all kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from perfsim.accuracy import make_accuracy
from perfsim.checks import count
from perfsim.cost.runtime import DEFAULT_RUNTIME, load_runtime_like
from perfsim.decoding import make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.explore.score import score_design
from perfsim.io.limits import MAX_BATCH, MAX_SIZE
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution

DEFAULT_OBJECTIVES = {"e2e_s": "min", "accuracy": "max"}


def pareto_mask(frame: pd.DataFrame, objectives: Mapping[str, str] | None = None) -> np.ndarray:
    """Boolean array: True where the row is non-dominated under `objectives` ({column: min|max})."""
    objectives = dict(objectives or DEFAULT_OBJECTIVES)
    if not objectives:
        raise PerfsimInputError("pareto_mask needs at least one objective ({column: 'min' or 'max'}).")
    for column, sense in objectives.items():
        if column not in frame.columns:
            raise PerfsimInputError(
                f"objective '{column}' is not a column; columns: {', '.join(frame.columns)}."
            )
        if sense not in ("min", "max"):
            raise PerfsimInputError(f"objective '{column}': sense must be 'min' or 'max' (got {sense!r}).")
    costs = np.column_stack(
        [np.asarray(frame[c], float) * (1.0 if s == "min" else -1.0) for c, s in objectives.items()]
    )
    mask = np.zeros(len(frame), dtype=bool)
    valid = np.flatnonzero(~np.isnan(costs).any(axis=1))
    remaining, pts = valid, costs[valid]
    i = 0
    while i < len(pts):  # drop every point the i-th dominates; keep ties
        keep = np.any(pts < pts[i], axis=1) | np.all(pts == pts[i], axis=1)
        remaining, pts = remaining[keep], pts[keep]
        i = int(np.count_nonzero(keep[:i])) + 1
    mask[remaining] = True
    return mask


def evaluate_frontier(
    designs: Iterable,
    hardware,
    *,
    batch: int = 1,
    prompt_len: int = 1024,
    output_len: int = 256,
    accuracy=None,
    decoding=None,
    objectives: Mapping[str, str] | None = None,
    execution: Execution | None = None,
    runtime=DEFAULT_RUNTIME,
) -> pd.DataFrame:
    """One row per design x hardware: latency at `batch` (TTFT, TPOT, end-to-end, tokens/s),
    max-batch throughput, memory, fit, accuracy (+ its source) and `on_front`, the Pareto set of
    `objectives` (default e2e_s min, accuracy max) computed per hardware.

    The accuracy axis is one benchmark (`accuracy_benchmark`, default MMLU 5-shot of the base
    checkpoint): `accuracy_kind` says whether a point is a published measurement or a scaling-law
    `proxy` (drawn with its own marker), and a proxy carries `accuracy_low`/`accuracy_high`, its
    leave-one-out error band (NaN for measurements).

    `designs`: model ids, YAML paths, ModelSpecs or `perfsim.explore.design.HybridDesign`s. `accuracy`:
    anything `perfsim.accuracy.make_accuracy` takes (default: measured, else scaling law); the
    decoding strategy's quality factor (`DecodingQuality`) multiplies it. `runtime` (id, path or
    RuntimeProfile; None: runtime-free) runs every design as that runtime does on each device.
    """
    from perfsim.explore.design import HybridDesign

    count("batch", batch, MAX_BATCH)
    count("prompt_len", prompt_len, MAX_SIZE)
    count("output_len", output_len, MAX_SIZE)
    models = [d.to_model() if isinstance(d, HybridDesign) else load_model(d) for d in designs]
    if not models:
        raise PerfsimInputError("evaluate_frontier needs at least one design.")
    devices = [load_hardware(h) for h in (hardware if isinstance(hardware, list | tuple) else [hardware])]
    acc_model, strategy = make_accuracy(accuracy), make_decoding(decoding)
    runtime = load_runtime_like(runtime)
    rows = []
    for model in models:
        for hw in devices:
            score = score_design(model, hw, batch, prompt_len, output_len, decoding=strategy,
                                 accuracy=acc_model, execution=execution, runtime=runtime)
            rows.append(
                {
                    "design": score.design,
                    "hardware": score.hardware,
                    "params": score.params,
                    "active_params": score.active_params,
                    "batch": batch,
                    "prompt_len": prompt_len,
                    "output_len": output_len,
                    "decoding": score.decoding,
                    **score.first(),
                    "accuracy": score.accuracy,
                    "accuracy_source": score.accuracy_note,
                    "accuracy_kind": score.accuracy_kind,
                    "accuracy_benchmark": score.accuracy_benchmark,
                    "accuracy_low": score.accuracy_low,
                    "accuracy_high": score.accuracy_high,
                }
            )
    frame = pd.DataFrame(rows)
    frame["on_front"] = False
    for _, index in frame.groupby("hardware", sort=False).groups.items():
        part = frame.loc[index]
        frame.loc[index, "on_front"] = pareto_mask(part, objectives) & part["fits"].to_numpy()
    return frame
