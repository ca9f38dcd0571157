"""Step costs and request-level predictions composed from per-kernel times. Pure functions.

Launch model: with CUDA graphs a step costs one graph launch plus the sum of kernel times. In
eager mode the host enqueues kernels every `host_per_kernel_s`; the GPU starts kernel i at
max(previous kernel end, its enqueue time), so short kernels expose host overhead. On a CPU the
dispatching thread is the one that computes, so every kernel adds its dispatch cost. This is why
depth matters at batch 1: every sublayer adds kernels and their fixed costs (papers.md section 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfsim.cost.graph import Execution, KernelGroup, StepBatch, build_step, sublayer_sequence
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


@dataclass(frozen=True, eq=False)
class StepResult:
    """One forward pass. `breakdown` has one row per kernel kind (sublayer x kernel)."""

    latency_s: float
    gpu_time_s: float
    launch_overhead_s: float
    flops: float
    bytes: float
    tokens: float
    kernels: int
    breakdown: pd.DataFrame

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


def _timed(groups: list[KernelGroup], hw: HardwareProfile):
    """Per group: list of (kernel name, op, device time, kernels launched)."""
    out = {}
    for g in groups:
        rows = []
        for name, op in g.kernels:
            t = np.asarray(op.time(hw), dtype=float)
            rows.append((name, op, t, np.where(t > 0, op.kernel_count, 0)))
        out[g.sublayer] = rows
    return out


def _latency(model: ModelSpec, hw: HardwareProfile, timed, execution: Execution):
    """(step latency, summed device time) for scalar or array shapes."""
    launch = hw.efficiency_in_use.launch
    counts = _counts(model, timed)
    gpu = sum(sum(t for _, _, t, _ in timed[g]) * c for g, c in counts.items())
    if execution.cuda_graphs:
        return launch.graph_launch_s + gpu + execution.host_overhead_per_step_s, gpu
    per_kernel = execution.host_per_kernel_s
    per_kernel = launch.host_per_kernel_s if per_kernel is None else per_kernel
    if hw.host_is_device:
        launched = sum(sum(n for _, _, _, n in timed[g]) * c for g, c in counts.items())
        return gpu + per_kernel * launched + execution.host_overhead_per_step_s, gpu
    host = np.zeros_like(gpu)
    done = np.zeros_like(gpu)
    for sub in sublayer_sequence(model):
        for _, _, t, n in timed[sub]:
            for _ in range(int(np.max(n))):  # each kernel of a multi-kernel op gets t / n
                share = np.where(n > 0, t / np.maximum(n, 1), 0.0)
                host = host + np.where(share > 0, per_kernel, 0.0)
                done = np.where(share > 0, np.maximum(done, host) + share, done)
    return done + execution.host_overhead_per_step_s, gpu


def _counts(model: ModelSpec, timed) -> dict[str, int]:
    seq = sublayer_sequence(model)
    return {g: seq.count(g) for g in timed}


def kernel_times(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution):
    """(kernel name, instances per forward, device time per instance, kernels launched per
    instance) for every kernel of a step; shapes may be arrays. For cost tables that split a step
    by what each kernel depends on (tokens, decode context, prefill chunks)."""
    timed = _timed(build_step(model, batch, execution), hw)
    counts = _counts(model, timed)
    return [(name, counts[sub], t, n) for sub, rows in timed.items() for name, _, t, n in rows]


def step_latency(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None):
    """Vectorised path: latency for array-valued StepBatch fields, no breakdown."""
    execution = execution or Execution()
    timed = _timed(build_step(model, batch, execution), hw)
    return _latency(model, hw, timed, execution)[0]


def evaluate_step(
    model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None
) -> StepResult:
    """Latency, totals and per-kernel breakdown of one forward pass with scalar shapes."""
    execution = execution or Execution()
    timed = _timed(build_step(model, batch, execution), hw)
    latency, gpu = _latency(model, hw, timed, execution)
    counts = _counts(model, timed)
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
    frame = pd.DataFrame(rows)
    frame["share"] = frame["time_s"] / float(gpu)
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
