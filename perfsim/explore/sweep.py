"""Sweeps: evaluate every point of a design space, vectorised over the workload fields.

Points that share the structural fields (model, architecture, hardware, decoding) form one task:
its model is built once and all its (batch, prompt_len, output_len) points are scored in one
vectorised call (`perfsim.explore.score`, the scorer frontier and search use too). Tasks run on an
executor (local, process pool or Ray); results stream to CSV or parquet as they arrive, with an
optional progress callback.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from perfsim.decoding import make_decoding
from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.explore.design import HybridDesign
from perfsim.explore.executors import make_executor
from perfsim.explore.score import score_design
from perfsim.explore.space import WORKLOAD_FIELDS, Space, load_space
from perfsim.extras import require
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

if TYPE_CHECKING:
    import pyarrow.parquet as pq


def _set_path(data: dict, path: str, value, what: str) -> None:
    keys = path.split(".")
    node: dict | list | None = data
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.get(key) if isinstance(node, dict) else None
        if node is None:
            raise PerfsimInputError(f"{what}.{path}: no field '{key}' in the {what} description.")
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict) and (last in node or what == "model"):
        node[last] = value
    else:
        raise PerfsimInputError(f"{what}.{path}: no field '{last}' in the {what} description.")


def _overridden(obj, schema, overrides: dict, what: str):
    if not overrides:
        return obj
    data = copy.deepcopy(obj.model_dump())
    for path, value in overrides.items():
        _set_path(data, path, value, what)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(f"{what} with {overrides}", exc) from None


def build(space: Space, point: dict[str, Any]) -> tuple[ModelSpec, HardwareProfile, object]:
    """The (model, hardware, decoding strategy) of one point's structural fields."""
    picked = {k[len(p) :]: v for k, v in point.items() for p in ("architecture.",) if k.startswith(p)}
    if space.architecture is not None:
        model = HybridDesign(**{**space.architecture, **picked}).to_model()
    else:
        assert space.model is not None  # Space requires exactly one of model and architecture
        model = load_model(space.model)
    model = _overridden(
        model, ModelSpec, {k[6:]: v for k, v in point.items() if k.startswith("model.")}, "model"
    )
    hw = load_hardware(point.get("hardware", space.devices[0]))
    hw = _overridden(
        hw, HardwareProfile, {k[9:]: v for k, v in point.items() if k.startswith("hardware.")}, "hardware"
    )
    decoding = {**(space.decoding or {}), **{k[9:]: v for k, v in point.items() if k.startswith("decoding.")}}
    name = decoding.pop("name", None)
    return model, hw, make_decoding(name, **decoding) if name else make_decoding(None)


def evaluate_task(task: tuple[dict, dict, dict]) -> pd.DataFrame:
    """One structural point x its workload arrays -> result rows (picklable for pools and Ray)."""
    space_data, structural, work = task
    space = Space.model_validate(space_data)
    model, hw, strategy = build(space, structural)
    score = score_design(model, hw, work["batch"], work["prompt_len"], work["output_len"],
                         decoding=strategy, accuracy=space.accuracy, execution=space.execution,
                         runtime=space.runtime)
    return pd.DataFrame(
        {
            "point": work["point"],
            **{k: v for k, v in structural.items()},
            "design": score.design,
            "hardware": score.hardware,
            "decoding": score.decoding,
            "params": score.params,
            "active_params": score.active_params,
            "batch": work["batch"],
            "prompt_len": work["prompt_len"],
            "output_len": work["output_len"],
            **score.columns,
            "accuracy": score.accuracy,
            "accuracy_source": score.accuracy_source,
        }
    )


def _groups(space: Space):
    """Yield (structural point, point indices, workload columns); grid spaces never materialise a
    dict per point, so 10^5-point grids plan in milliseconds."""
    base = space.workload.model_dump()
    params = space.sweep_parameters()
    keys = list(params)
    if space.mode == "random" or not keys:
        groups: dict[tuple, dict] = {}
        for index, point in enumerate(space.points()):
            structural = {k: v for k, v in point.items() if not k.startswith("workload.")}
            key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(structural.items()))
            group = groups.setdefault(key, {"structural": structural, "rows": []})
            group["rows"].append([index] + [point.get(f"workload.{f}", base[f]) for f in WORKLOAD_FIELDS])
        for group in groups.values():
            rows = np.asarray(group["rows"], dtype=np.int64)
            yield group["structural"], rows[:, 0], {f: rows[:, i + 1] for i, f in enumerate(WORKLOAD_FIELDS)}
        return
    lists = {k: space.values(k) for k in keys}
    shape = tuple(len(lists[k]) for k in keys)
    s_keys = [k for k in keys if not k.startswith("workload.")]
    w_keys = [k for k in keys if k.startswith("workload.")]
    w_index = (
        np.indices(tuple(len(lists[k]) for k in w_keys)).reshape(len(w_keys), -1)
        if w_keys
        else np.zeros((0, 1), dtype=np.int64)
    )
    work = {f: np.full(w_index.shape[1], base[f], dtype=np.int64) for f in WORKLOAD_FIELDS}
    for row, w_key in zip(w_index, w_keys, strict=True):
        work[w_key[9:]] = np.asarray(lists[w_key], dtype=np.int64)[row]
    for combo in itertools.product(*(range(len(lists[k])) for k in s_keys)):
        chosen = dict(zip(s_keys, combo, strict=True))
        multi_index = [
            np.full(w_index.shape[1], chosen[k]) if k in chosen else w_index[w_keys.index(k)] for k in keys
        ]
        yield {k: lists[k][i] for k, i in chosen.items()}, np.ravel_multi_index(multi_index, shape), work


def plan(space: Space, chunk_points: int = 20000) -> list[tuple[dict, dict, dict]]:
    """Tasks: one per structural point (split above `chunk_points`), carrying its workload arrays."""
    data = space.model_dump()
    tasks = []
    for structural, points, work in _groups(space):
        for start in range(0, len(points), chunk_points):
            part = slice(start, start + chunk_points)
            tasks.append((data, structural, {"point": points[part], **{f: v[part] for f, v in work.items()}}))
    return tasks


class _Sink:
    """Appends frames to a CSV or parquet file as they arrive."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        if self.path and self.path.suffix not in (".csv", ".parquet"):
            raise PerfsimInputError(f"{self.path}: output must end in .csv or .parquet.")
        self.writer: pq.ParquetWriter | None = None
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.path is None:
            return
        if self.path.suffix == ".csv":
            frame.to_csv(self.path, mode="w" if self.header else "a", header=self.header, index=False)
            self.header = False
            return
        pa = require("pyarrow", extra="parquet", feature="parquet output")
        pq = require("pyarrow.parquet", extra="parquet", feature="parquet output")

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def sweep(
    space,
    *,
    executor=None,
    address: str | None = None,
    workers: int | None = None,
    out: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_points: int = 20000,
    runtime=None,
) -> pd.DataFrame:
    """Evaluate every point of `space` (a Space, a mapping or a space.yaml path); one row per point,
    sorted by `point`. `executor`: "local" (default), "process", "ray" (with `address`, e.g.
    "auto"), a SweepExecutor or any concurrent.futures.Executor. `out`: stream rows to .csv/.parquet.
    `progress(done_points, total_points)` is called after each finished task. `runtime` (id, path
    or RuntimeProfile; `none` for kernel physics alone) overrides the space's `runtime`."""
    space = load_space(space)
    if runtime is not None:
        space = space.model_copy(update={"runtime": runtime})
    tasks = plan(space, chunk_points)
    total = sum(len(t[2]["point"]) for t in tasks)
    runner = make_executor(executor, address=address, workers=workers)
    sink, done = _Sink(out), 0
    frames: list[pd.DataFrame] = []
    try:
        for _, frame in runner.run(evaluate_task, tasks):
            assert isinstance(frame, pd.DataFrame)  # what evaluate_task returns
            sink.write(frame)
            frames.append(frame)
            done += len(frame)
            if progress is not None:
                progress(done, total)
    finally:
        sink.close()
    return pd.concat(frames, ignore_index=True).sort_values("point", ignore_index=True)
