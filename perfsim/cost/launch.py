"""How kernel device times become a step's wall time (the one step-latency composer).

Launch model: with CUDA graphs a step costs one graph launch plus the sum of kernel times. In
eager mode the host enqueues kernels every `host_per_kernel_s`; the GPU starts kernel i at
max(previous kernel end, its enqueue time), so short kernels expose host overhead. On a CPU the
dispatching thread is the one that computes, so every kernel adds its dispatch cost. This is why
depth matters at batch 1: every sublayer adds kernels and their fixed costs (papers.md section 1).
Host work outside kernels adds per step: a fixed part and a part per running sequence (a
runtime's input preparation, sampling and detokenisation, `Execution.host_per_seq_per_step_s`).
Whether one step replays a graph is decided here alone (`graphed`): a runtime captures graphs up to
a size, in tokens (vLLM V1) or sequences (SGLang), and runs bigger steps, or steps with prefill where
its graphs are decode-only, launching every kernel (`at`, `ungraphed`). Such a step is priced by the
pipeline limit of the launch recurrence, max(device time, host enqueue time) over the whole step (its
layers repeat, so the recurrence differs from it by at most one layer's imbalance): a sum the step
tables can hold, where the recurrence needs every kernel in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
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
    #: Largest step replaying the graph, in tokens or (graph_counts_seqs) sequences; inf: any.
    graph_max_size: float = float("inf")
    graph_counts_seqs: bool = False
    graph_prefill: bool = True
    #: Enqueue seconds per kernel of a step too big for the graphs (None: host_per_kernel_s).
    host_per_kernel_ungraphed_s: float | None = None
    #: Kernels enqueued by the host of a graph runtime, priced by the pipeline limit (`ungraphed`).
    pipelined: bool = False

    @classmethod
    def of(cls, hw: HardwareProfile, execution: Execution) -> LaunchModel:
        launch = hw.efficiency_in_use.launch
        per_kernel = execution.host_per_kernel_s
        per_kernel = launch.host_per_kernel_s if per_kernel is None else per_kernel
        size = execution.cuda_graph_max_size
        return cls(execution.cuda_graphs, launch.graph_launch_s, per_kernel, hw.host_is_device,
                   execution.host_overhead_per_step_s, execution.host_per_seq_per_step_s,
                   float("inf") if size is None else float(size), execution.cuda_graph_unit == "seqs",
                   execution.cuda_graph_prefill, execution.host_per_kernel_ungraphed_s)

    @property
    def limited(self) -> bool:
        """Whether some steps may run without the graphs this model replays."""
        return self.cuda_graphs and (self.graph_max_size != float("inf") or not self.graph_prefill)

    def graphed_at(self, tokens, seqs, prefill_tokens=0.0):
        """Whether a step of `tokens` tokens and `seqs` sequences, `prefill_tokens` of them
        prompt tokens, replays the graph (bool, or a bool array for array shapes)."""
        if not self.limited:
            return self.cuda_graphs
        size = seqs if self.graph_counts_seqs else tokens
        if isinstance(size, int | float) and isinstance(prefill_tokens, int | float) or (
                np.ndim(size) == 0 and np.ndim(prefill_tokens) == 0):  # one step (the simulator's loop)
            return bool(size <= self.graph_max_size and (self.graph_prefill or prefill_tokens == 0))
        fits = np.asarray(size, dtype=float) <= self.graph_max_size
        if not self.graph_prefill:
            fits = fits & (np.asarray(prefill_tokens, dtype=float) == 0)
        return fits

    def graphed(self, batch):
        """graphed_at for one StepBatch (perfsim.cost.graph), scalar or array shapes."""
        if not self.limited:
            return self.cuda_graphs
        return self.graphed_at(batch.tokens, batch.decode_seqs + batch.prefill_seqs,
                               batch.prefill_seqs * batch.prefill_tokens)

    def ungraphed(self) -> LaunchModel:
        """How a step runs when the graphs do not cover it: every kernel enqueued by the host
        (itself when graphs are off: their eager per-kernel cost stays). Built once per model."""
        if not self.cuda_graphs:
            return self
        return self._ungraphed

    @cached_property
    def _ungraphed(self) -> LaunchModel:
        per_kernel = self.host_per_kernel_ungraphed_s
        return replace(self, cuda_graphs=False, graph_max_size=float("inf"), graph_prefill=True,
                       host_per_kernel_s=self.host_per_kernel_s if per_kernel is None else per_kernel,
                       pipelined=not self.host_is_device)

    @property
    def summable(self) -> bool:
        """Whether a step's wall time follows from its summed device time and kernels alone."""
        return self.cuda_graphs or self.host_is_device or self.pipelined

    def at(self, batch) -> LaunchModel:
        """The launch model of one step with scalar shapes: this one, or `ungraphed()`."""
        return self if self.graphed(batch) else self.ungraphed()

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
        if self.pipelined:
            enqueue = self.host_per_kernel_s * launched
            if type(gpu) is float and type(enqueue) is float:
                return max(gpu, enqueue) + host
            return np.maximum(gpu, enqueue) + host
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
        if self.host_is_device or self.pipelined:
            launched = sum(sum(k.launched for k in timed[g]) * c for g, c in counts.items())
            return self.summed_s(gpu, launched, seqs), gpu
        host = np.zeros_like(gpu)
        done = np.zeros_like(gpu)
        for sub in sequence:
            for _, _, t, n in timed[sub]:
                for _ in range(int(np.max(n))):  # each kernel of a multi-kernel op gets t / n
                    share = np.where(n > 0, t / np.maximum(n, 1), 0.0)
                    host = host + np.where(share > 0, per_kernel, 0.0)
                    done = np.where(share > 0, np.maximum(done, host) + share, done)
        return done + host_step, gpu

    def priced_s(self, timed: Mapping[str, Sequence[TimedKernel]], sequence: Sequence[str], batch):
        """step_s of the step `batch` (a StepBatch, scalar or array shapes), each step launched as
        `graphed` decides: (wall, device) seconds."""
        seqs = batch.decode_seqs + batch.prefill_seqs
        graphed = self.graphed(batch)
        if np.ndim(graphed) == 0:
            return (self if graphed else self.ungraphed()).step_s(timed, sequence, seqs)
        wall, gpu = self.step_s(timed, sequence, seqs)
        return np.where(graphed, wall, self.ungraphed().step_s(timed, sequence, seqs)[0]), gpu

    def kernel_s(self, time_s, launched):
        """Wall seconds of one kernel priced apart from its step (cost tables that split a step by
        what each kernel depends on): its device time under CUDA graphs; eagerly max(device time,
        host enqueue time), the queue-drained limit of step_s's launch recurrence."""
        if self.cuda_graphs:
            return time_s
        if self.pipelined:
            raise ValueError("a pipelined step's kernels are not priced apart: compose its sums (summed_s)")
        return np.where(time_s > 0, np.maximum(time_s, self.host_per_kernel_s * launched), 0.0)
