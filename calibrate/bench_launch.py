"""Launch costs: host time to dispatch one eager torch op, and CUDA-graph replay cost per graph
and per node (fitted as a line over graphs of 1..64 tiny kernels)."""

from __future__ import annotations

import time

import numpy as np
import torch

from perfsim.calibrate.cases import BenchContext, Case
from perfsim.calibrate.timing import Timing, robust_summary, synchronize

_OPS_PER_SAMPLE = 200


def _eager_dispatch(ctx: BenchContext) -> list[tuple[dict, Timing]]:
    """Per-op wall time of a loop of tiny in-place adds: the host dispatch rate bounds it."""
    x = torch.zeros(1, device=ctx.device)
    samples = []
    for rep in range(23):
        synchronize(ctx.device)
        t0 = time.perf_counter()
        for _ in range(_OPS_PER_SAMPLE):
            x.add_(1.0)
        synchronize(ctx.device)
        if rep >= 3:  # warm-up
            samples.append((time.perf_counter() - t0) / _OPS_PER_SAMPLE)
    return [({"ops": 1}, robust_summary(samples, "perf_counter"))]


def _graph_replay(ctx: BenchContext) -> list[tuple[dict, Timing]]:
    rows = []
    x = torch.zeros(1, device=ctx.device)
    for nodes in (1, 4, 16, 64):
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            x.add_(1.0)
        torch.cuda.synchronize()
        with torch.cuda.graph(graph):
            for _ in range(nodes):
                x.add_(1.0)
        samples = []
        for rep in range(53):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            graph.replay()
            torch.cuda.synchronize()
            if rep >= 3:
                samples.append(time.perf_counter() - t0)
        rows.append(({"ops": nodes}, robust_summary(np.asarray(samples), "perf_counter")))
    return rows


def launch_cases(ctx: BenchContext) -> list[Case]:
    cases = [Case("launch", "eager_op", {}, None, 0.0, custom=_eager_dispatch)]
    if ctx.device.startswith("cuda"):
        cases.append(Case("launch", "graph_replay", {}, None, 0.0, custom=_graph_replay))
    return cases
