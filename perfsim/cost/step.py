"""Step costs and request-level predictions composed from per-kernel times. Pure functions.

Launch model: with CUDA graphs a step costs one graph launch plus the sum of kernel times. In
eager mode the host enqueues kernels every `host_per_kernel_s`; the GPU starts kernel i at
max(previous kernel end, its enqueue time), so short kernels expose host overhead. On a CPU the
dispatching thread is the one that computes, so every kernel adds its dispatch cost. This is why
depth matters at batch 1: every sublayer adds kernels and their fixed costs (papers.md section 1).
Host work outside kernels adds per step: a fixed part and a part per running sequence (a
runtime's input preparation, sampling and detokenisation, `Execution.host_per_seq_per_step_s`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from perfsim.cost.graph import KernelGroup, StepBatch, build_step, sublayer_sequence
from perfsim.ops import Op
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

if TYPE_CHECKING:
    import pandas as pd


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


class TimedKernel(NamedTuple):
    """One kernel of a sublayer priced on a profile: device seconds and kernels launched (arrays)."""

    name: str
    op: Op
    time_s: np.ndarray
    launched: np.ndarray


@dataclass(frozen=True)
class LaunchModel:
    """How kernel device times become wall time on one (hardware, execution): the one step-latency
    composer, used by the predictor (whole steps), the serving cost tables (kernels priced apart)
    and the VLM prefill."""

    cuda_graphs: bool
    graph_launch_s: float
    host_per_kernel_s: float
    host_is_device: bool
    host_overhead_per_step_s: float
    host_per_seq_per_step_s: float = 0.0

    @classmethod
    def of(cls, hw: HardwareProfile, execution: Execution) -> LaunchModel:
        launch = hw.efficiency_in_use.launch
        per_kernel = execution.host_per_kernel_s
        per_kernel = launch.host_per_kernel_s if per_kernel is None else per_kernel
        return cls(execution.cuda_graphs, launch.graph_launch_s, per_kernel, hw.host_is_device,
                   execution.host_overhead_per_step_s, execution.host_per_seq_per_step_s)

    def host_s(self, seqs=0.0):
        """Host seconds per step outside kernels for `seqs` running sequences (scalar or array)."""
        if self.host_per_seq_per_step_s == 0:
            return self.host_overhead_per_step_s
        return self.host_overhead_per_step_s + self.host_per_seq_per_step_s * np.asarray(seqs, dtype=float)

    def step_s(self, timed: Mapping[str, Sequence[TimedKernel]], sequence: Sequence[str], seqs=0.0):
        """(wall, device) seconds of a forward that launches, in `sequence` order, the kernels
        `timed[sublayer]` of each sublayer instance, with `seqs` sequences running; scalar or
        array shapes."""
        counts = {g: sequence.count(g) for g in timed}
        gpu = sum(sum(k.time_s for k in timed[g]) * c for g, c in counts.items())
        host_step = self.host_s(seqs)
        if self.cuda_graphs:
            return self.graph_launch_s + gpu + host_step, gpu
        per_kernel = self.host_per_kernel_s
        if self.host_is_device:
            launched = sum(sum(k.launched for k in timed[g]) * c for g, c in counts.items())
            return gpu + per_kernel * launched + host_step, gpu
        host = np.zeros_like(gpu)
        done = np.zeros_like(gpu)
        for sub in sequence:
            for _, _, t, n in timed[sub]:
                for _ in range(int(np.max(n))):  # each kernel of a multi-kernel op gets t / n
                    share = np.where(n > 0, t / np.maximum(n, 1), 0.0)
                    host = host + np.where(share > 0, per_kernel, 0.0)
                    done = np.where(share > 0, np.maximum(done, host) + share, done)
        return done + host_step, gpu

    def kernel_s(self, time_s, launched):
        """Wall seconds of one kernel priced apart from its step (cost tables that split a step by
        what each kernel depends on): its device time under CUDA graphs; eagerly max(device time,
        host enqueue time), the queue-drained limit of step_s's launch recurrence."""
        if self.cuda_graphs:
            return time_s
        return np.where(time_s > 0, np.maximum(time_s, self.host_per_kernel_s * launched), 0.0)


def timed_kernels(groups: list[KernelGroup], hw: HardwareProfile) -> dict[str, list[TimedKernel]]:
    """Per sublayer kind: its kernels priced on `hw`."""
    out = {}
    for g in groups:
        rows = []
        for name, op, _role in g.kernels:
            t = np.asarray(op.time(hw), dtype=float)
            rows.append(TimedKernel(name, op, t, np.where(t > 0, op.kernel_count, 0)))
        out[g.sublayer] = rows
    return out


def _latency(model: ModelSpec, hw: HardwareProfile, timed, execution: Execution, batch: StepBatch):
    """(step latency, summed device time) for scalar or array shapes."""
    seqs = batch.decode_seqs + batch.prefill_seqs
    return LaunchModel.of(hw, execution).step_s(timed, sublayer_sequence(model), seqs)


def _counts(model: ModelSpec, timed) -> dict[str, int]:
    seq = sublayer_sequence(model)
    return {g: seq.count(g) for g in timed}


def kernel_times(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution):
    """(kernel name, KernelRole, instances per forward, device time per instance, kernels launched
    per instance) for every kernel of a step; shapes may be arrays. For cost tables that split a
    step by what each kernel depends on (its role: tokens, logit rows, decode, prefill chunks)."""
    groups = build_step(model, batch, execution)
    timed = timed_kernels(groups, hw)
    counts = _counts(model, timed)
    return [(k.name, k.role, counts[g.sublayer], tk.time_s, tk.launched)
            for g in groups for k, tk in zip(g.kernels, timed[g.sublayer], strict=True)]


def step_latency(model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None):
    """Vectorised path: latency for array-valued StepBatch fields, no breakdown."""
    execution = execution or Execution()
    timed = timed_kernels(build_step(model, batch, execution), hw)
    return _latency(model, hw, timed, execution, batch)[0]


def evaluate_step(
    model: ModelSpec, hw: HardwareProfile, batch: StepBatch, execution: Execution | None = None
) -> StepResult:
    """Latency, totals and per-kernel breakdown of one forward pass with scalar shapes."""
    execution = execution or Execution()
    timed = timed_kernels(build_step(model, batch, execution), hw)
    latency, gpu = _latency(model, hw, timed, execution, batch)
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
    import pandas as pd  # deferred: `import perfsim` stays light

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
