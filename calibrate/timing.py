"""Timing harness: warm-up, synchronised repetitions, outlier rejection, median and spread.

perfsim prices kernels launched back to back with launch cost hidden, so on CUDA a repetition is
`inner` calls captured in one CUDA graph and timed with CUDA events (device time only); where
capture fails (an op that syncs the host), the calls run eagerly between the same events and the
row says so. On CPU a repetition is one call timed with perf_counter. Calls rotate over several
copies of their operands whose total exceeds the last-level cache, so weights stream from DRAM/HBM
as they do in a real forward pass instead of being served from a warm cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

#: Samples further than this many robust standard deviations (1.4826 MAD) from the median are
#: dropped: on a shared machine interference shows up as rare, much slower repetitions.
OUTLIER_SIGMAS = 4.0


@dataclass(frozen=True)
class Timing:
    median_s: float
    p10_s: float
    p90_s: float
    reps: int
    outliers: int
    mode: str  # "perf_counter", "cuda_graph" or "cuda_events_eager"

    @property
    def spread(self) -> float:
        """(p90 - p10) / median: the run-to-run noise of this measurement."""
        return (self.p90_s - self.p10_s) / self.median_s if self.median_s > 0 else 0.0


def robust_summary(samples_s: Sequence[float] | np.ndarray, mode: str) -> Timing:
    """Median and 10/90th percentiles after dropping outliers (never more than half the samples)."""
    x = np.asarray(samples_s, dtype=float)
    if x.size == 0:
        raise ValueError("no timing samples")
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * 1.4826
    keep = np.abs(x - med) <= OUTLIER_SIGMAS * mad if mad > 0 else np.ones_like(x, dtype=bool)
    if keep.sum() < max(1, x.size // 2):
        keep = np.ones_like(x, dtype=bool)
    kept = x[keep]
    return Timing(
        median_s=float(np.median(kept)),
        p10_s=float(np.percentile(kept, 10)),
        p90_s=float(np.percentile(kept, 90)),
        reps=int(kept.size),
        outliers=int(x.size - kept.size),
        mode=mode,
    )


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(
    calls: Sequence[Callable[[], object]],
    device: str = "cpu",
    budget_s: float = 0.2,
    min_reps: int = 3,
    max_reps: int = 100,
    warmup: int = 2,
    cuda_graphs: bool = True,
) -> Timing:
    """Median time of one call, cycling over `calls` (the same work on different operand copies).

    The repetition count adapts so the whole measurement takes about `budget_s`, within
    [min_reps, max_reps], and at least `min_reps` survive the outlier filter (on the CPU path,
    which times more until they do); warm-up calls are never timed (allocator, autotuning, page faults).
    `cuda_graphs=False` times eager launches (a whole model forward as plain torch runs it).
    """
    if not calls:
        raise ValueError("measure() needs at least one callable")
    if device.startswith("cuda"):
        return _measure_cuda(list(calls), budget_s, min_reps, max_reps, warmup, cuda_graphs)
    for i in range(warmup):
        calls[i % len(calls)]()
    start = time.perf_counter()
    calls[0]()
    estimate = max(time.perf_counter() - start, 1e-7)
    reps = int(np.clip(budget_s / estimate, min_reps, max_reps))
    samples: list[float] = []

    def time_one() -> None:
        fn = calls[len(samples) % len(calls)]
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)

    for _ in range(reps):
        time_one()
    timing = robust_summary(samples, "perf_counter")
    # Interference on a loaded machine can make the outlier filter drop repetitions; time more
    # until `min_reps` are kept, so a reported Timing always rests on at least that many.
    while timing.reps < min_reps and len(samples) < max(max_reps, 2 * min_reps):
        time_one()
        timing = robust_summary(samples, "perf_counter")
    return timing


def _measure_cuda(calls, budget_s, min_reps, max_reps, warmup, cuda_graphs) -> Timing:
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for i in range(max(warmup, len(calls))):
            calls[i % len(calls)]()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    calls[0]()
    end.record()
    torch.cuda.synchronize()
    # enough calls per repetition that the graph's own launch (~10 us) is under 1 % of it
    inner = int(np.clip(np.ceil(1e-3 / max(start.elapsed_time(end) * 1e-3, 1e-7)), len(calls), 512))
    calls = [calls[i % len(calls)] for i in range(inner)]
    run: Callable[[], object] | None
    run, mode = (_graph_of(calls) if cuda_graphs else None), "cuda_graph"
    if run is None:
        run, mode = (lambda: [fn() for fn in calls]), "cuda_events_eager"
    start.record()
    run()
    end.record()
    torch.cuda.synchronize()
    estimate = max(start.elapsed_time(end) * 1e-3, 1e-7)
    reps = int(np.clip(budget_s / estimate, min_reps, max_reps))
    samples = []
    for _ in range(reps):
        start.record()
        run()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) * 1e-3 / len(calls))
    return robust_summary(samples, mode)


def _graph_of(calls) -> Callable[[], None] | None:
    """One CUDA graph replaying every call once, or None where the ops cannot be captured."""
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph):
            for fn in calls:
                fn()
    except RuntimeError:
        torch.cuda.synchronize()
        return None
    return graph.replay


def copies_to_defeat_cache(bytes_per_call: float, cache_bytes: float, cap: int = 64) -> int:
    """Operand copies whose total is at least twice the last-level cache (at least 1)."""
    if bytes_per_call <= 0:
        return 1
    return int(np.clip(np.ceil(2.0 * cache_bytes / bytes_per_call), 1, cap))
