"""Step costs composed from per-kernel times: the plan's path (perfsim.cost.plan: GEMM tables,
memoised ops, the breakdown built on first access) and the reference path it is tested against
(every op priced afresh). Wall time from device times: perfsim.cost.launch."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from perfsim.cost.graph import KernelGroup, StepBatch, build_step, sublayer_sequence
from perfsim.cost.launch import LaunchModel, TimedKernel
from perfsim.cost.plan import StepPlan, step_plan
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False, init=False)
class StepResult:
    """One forward pass. `breakdown` has one row per kernel kind (sublayer x kernel); it is built
    on first access (a pandas frame costs more than pricing the step), from a frame or a
    zero-argument callable returning one."""

    latency_s: float
    gpu_time_s: float
    launch_overhead_s: float
    flops: float
    bytes: float
    tokens: float
    kernels: int
    _breakdown: object = field(repr=False)

    def __init__(self, latency_s: float, gpu_time_s: float, launch_overhead_s: float, flops: float,
                 bytes: float, tokens: float, kernels: int,  # noqa: A002 (the public field's name)
                 breakdown: pd.DataFrame | Callable[[], pd.DataFrame]):
        for name, value in (("latency_s", latency_s), ("gpu_time_s", gpu_time_s),
                            ("launch_overhead_s", launch_overhead_s), ("flops", flops), ("bytes", bytes),
                            ("tokens", tokens), ("kernels", kernels), ("_breakdown", breakdown)):
            object.__setattr__(self, name, value)

    def __getstate__(self) -> dict:
        self.breakdown  # noqa: B018 (pickles and copies carry the frame, not its recipe)
        return dict(self.__dict__)

    @property
    def breakdown(self) -> pd.DataFrame:
        frame = self._breakdown
        if callable(frame):
            frame = frame()
            object.__setattr__(self, "_breakdown", frame)
        return frame  # type: ignore[return-value]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.latency_s

    def to_dict(self) -> dict[str, float]:
        return {
            "latency_s": self.latency_s,
            "gpu_time_s": self.gpu_time_s,
            "launch_overhead_s": self.launch_overhead_s,
            "flops": self.flops,
            "bytes": self.bytes,
            "tokens": self.tokens,
            "kernels": self.kernels,
            "tokens_per_s": self.tokens_per_s,
        }


def timed_kernels(groups: list[KernelGroup], hw: HardwareProfile,
                  plan: StepPlan | None = None) -> dict[str, list[TimedKernel]]:
    """Per sublayer kind: its kernels priced on `hw` (through `plan`'s GEMM tables when given)."""
    ops = [k.op for g in groups for k in g.kernels]
    times = iter([op.time(hw) for op in ops] if plan is None else plan.price_all(ops))
    out = {}
    for g in groups:
        rows = []
        for name, op, _role in g.kernels:
            t = next(times)
            if np.ndim(t) == 0:  # scalar shapes: plain floats (same IEEE arithmetic, no array calls)
                t = float(t)
                rows.append(TimedKernel(name, op, t, op.kernel_count if t > 0 else 0))  # type: ignore[arg-type]
                continue
            t = np.asarray(t, dtype=float)
            rows.append(TimedKernel(name, op, t, np.where(t > 0, op.kernel_count, 0)))
        out[g.sublayer] = rows
    return out


def _plan(model: ModelSpec, hw: HardwareProfile, execution: Execution) -> StepPlan:
    return step_plan(model, hw, execution)


def kernel_times(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution):
    """(kernel name, KernelRole, instances per forward, device time per instance, kernels launched
    per instance) for every kernel of a step; shapes may be arrays. For cost tables that split a
    step by what each kernel depends on (its role: tokens, logit rows, decode, prefill chunks)."""
    plan = _plan(model, hw, execution)
    groups = build_step(model, batch, execution)
    timed = timed_kernels(groups, hw, plan)
    return [(k.name, k.role, plan.counts[g.sublayer], tk.time_s, tk.launched)
            for g in groups for k, tk in zip(g.kernels, timed[g.sublayer], strict=True)]


def step_latency(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None):
    """Vectorised path: latency for array-valued StepBatch fields, no breakdown (the plan's path;
    a request's decode iterations, one batch over an array of contexts, from its tables)."""
    execution = execution or Execution()
    plan = _plan(model, hw, execution)
    seqs = batch.decode_seqs + batch.prefill_seqs
    graphed = plan.launch.graphed(batch)
    launch = plan.launch if np.ndim(graphed) else plan.launch.at(batch)
    if not launch.summable:  # kernels enqueued in order by the host
        return plan.launch.priced_s(_timed(model, hw, batch, execution, plan), plan.sequence, batch)[0]
    tabulated = plan.tables.decode_contexts(batch)
    if tabulated is not None:
        return launch.summed_s(tabulated[0], tabulated[1], batch.decode_seqs)
    start = time.perf_counter()
    timed = _timed(model, hw, batch, execution, plan)
    if plan.tables.usable:  # summed in the tables' order (the same bits as a table read)
        gpu, _, _, launched = plan.tables.compose(timed, batch, costs=False)
        latency = launch.summed_s(gpu, launched, seqs)
        plan.tables.charge(time.perf_counter() - start)
        if np.ndim(graphed):  # shapes on both sides of the capture limit
            latency = np.where(graphed, latency, launch.ungraphed().summed_s(gpu, launched, seqs))
        return latency
    return plan.launch.priced_s(timed, plan.sequence, batch)[0]


def _timed(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution,
           plan: StepPlan) -> dict[str, list[TimedKernel]]:
    return timed_kernels(build_step(model, batch, execution), hw, plan)


def evaluate_step(
    model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None
) -> StepResult:
    """Latency, totals and (lazily) the per-kernel breakdown of one forward with scalar shapes:
    from the plan's tables when they hold the step (perfsim.cost.tables), else priced kernel by
    kernel; the breakdown is priced kernel by kernel when first asked for."""
    execution = execution or Execution()
    plan = _plan(model, hw, execution)
    launch = plan.launch.at(batch)
    summed = plan.tables.scalar(batch) if launch.summable else None
    if summed is None:
        start = time.perf_counter()
        result = _priced_step(model, hw, batch, execution, plan)
        plan.tables.charge(time.perf_counter() - start)  # rent paid towards the missing tiles
        return result
    gpu, flops, moved, launched = summed
    latency = float(launch.summed_s(gpu, launched, batch.decode_seqs + batch.prefill_seqs))
    return StepResult(latency, gpu, latency - gpu, flops, moved, float(batch.tokens), int(round(launched)),
                      breakdown=lambda: _priced_step(model, hw, batch, execution, plan).breakdown)


def _priced_step(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution,
                 plan: StepPlan) -> StepResult:
    """evaluate_step kernel by kernel through the plan's GEMM tables and op memo."""
    timed = timed_kernels(build_step(model, batch, execution), hw, plan)
    counts, seqs = plan.counts, batch.decode_seqs + batch.prefill_seqs
    launch = plan.launch.at(batch)
    if plan.tables.usable and launch.summable:  # summed in the tables' order (the same bits)
        gpu, flops, moved, launched = plan.tables.compose(timed, batch)
        latency, kernels = launch.summed_s(gpu, launched, seqs), int(round(launched))
    else:
        latency, gpu = launch.step_s(timed, plan.sequence, seqs)
        flops = moved = 0.0
        kernels = 0
        for sub, rows in timed.items():
            c = counts[sub]
            for _name, op, t, n in rows:
                if float(t) > 0:
                    cost = op.cost()
                    flops += float(cost.flops) * c
                    moved += float(cost.bytes) * c
                    kernels += int(n) * c
    gpu_s = float(gpu)
    return StepResult(
        latency_s=float(latency), gpu_time_s=gpu_s, launch_overhead_s=float(latency - gpu), flops=flops,
        bytes=moved, tokens=float(batch.tokens), kernels=kernels,
        breakdown=lambda: _breakdown(timed, counts, gpu_s, hw),
    )


# ---- the reference path: every kernel priced by its op on every call (parity tests) ---------
def _latency(model: ModelSpec, hw: HardwareProfile, timed, execution: Execution, batch: StepBatch):
    """(step latency, summed device time) for scalar or array shapes."""
    return LaunchModel.of(hw, execution).priced_s(timed, sublayer_sequence(model), batch)


def _counts(model: ModelSpec, timed) -> dict[str, int]:
    seq = sublayer_sequence(model)
    return {g: seq.count(g) for g in timed}


def step_latency_reference(model: ModelSpec, hw: HardwareProfile, batch: StepBatch,
                           execution: Execution | None = None):
    """step_latency with every op priced afresh (no plan)."""
    execution = execution or Execution()
    timed = timed_kernels(build_step(model, batch, execution), hw)
    return _latency(model, hw, timed, execution, batch)[0]


def _breakdown(timed, counts: Mapping[str, int], gpu: float, hw: HardwareProfile) -> pd.DataFrame:
    rows = []
    for sub, kernels in timed.items():
        for name, op, t, n in kernels:
            if float(t) <= 0:
                continue
            cost = op.cost()
            rows.append({
                "sublayer": sub,
                "kernel": name,
                "family": op.family,
                "count": counts[sub],
                "kernels": int(n) * counts[sub],
                "flops": float(cost.flops) * counts[sub],
                "bytes": float(cost.bytes) * counts[sub],
                "time_per_instance_s": float(t),
                "time_s": float(t) * counts[sub],
                "bound": op.bound(hw),
            })
    import pandas as pd  # deferred: `import perfsim` stays light

    frame = pd.DataFrame(rows)
    frame["share"] = frame["time_s"] / gpu
    return frame


def evaluate_step_reference(
    model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None
) -> StepResult:
    """evaluate_step with every op priced afresh and the breakdown built eagerly."""
    execution = execution or Execution()
    timed = timed_kernels(build_step(model, batch, execution), hw)
    latency, gpu = _latency(model, hw, timed, execution, batch)
    frame = _breakdown(timed, _counts(model, timed), float(gpu), hw)
    return StepResult(
        latency_s=float(latency),
        gpu_time_s=float(gpu),
        launch_overhead_s=float(latency - gpu),
        flops=float(frame["flops"].sum()),
        bytes=float(frame["bytes"].sum()),
        tokens=float(batch.tokens),
        kernels=int(frame["kernels"].sum()),
        breakdown=frame,
    )


__all__ = ["LaunchModel", "StepResult", "TimedKernel", "evaluate_step", "evaluate_step_reference",
           "kernel_times", "step_latency", "step_latency_reference", "timed_kernels"]
