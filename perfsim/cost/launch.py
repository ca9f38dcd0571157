"""How kernel device times become a step's wall time (the one step-latency composer).

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
from typing import NamedTuple

import numpy as np

from perfsim.ops import Op
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile


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

    def summed_s(self, gpu, launched, seqs=0.0):
        """step_s's wall seconds from the step's summed device time and kernels launched: the
        same arithmetic under CUDA graphs and on a CPU (where kernel order does not matter);
        eager launch on a GPU needs the kernels in order (step_s). Scalar or array shapes."""
        if self.host_per_seq_per_step_s == 0:
            host = self.host_overhead_per_step_s
        elif type(seqs) is int or type(seqs) is float:
            host = self.host_overhead_per_step_s + self.host_per_seq_per_step_s * float(seqs)
        else:
            host = self.host_s(seqs)
        if self.cuda_graphs:
            return self.graph_launch_s + gpu + host
        if not self.host_is_device:
            raise ValueError("summed_s prices CUDA graphs or a host-is-device CPU; eager GPUs need step_s")
        return gpu + self.host_per_kernel_s * launched + host

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
