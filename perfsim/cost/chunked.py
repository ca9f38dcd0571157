"""A batch's prefill as a runtime with chunked prefill runs it: forwards of at most `chunk` new
tokens. Prompts no longer than the chunk are packed whole, as many per forward as fit; a longer
prompt runs in consecutive chunks over its growing cached past, one sequence after another (an
engine interleaves the tail of one prompt with the head of the next; the kernels priced here are
the same up to that packing). The result is one StepResult: latencies, FLOPs, bytes and kernels
summed over the forwards and the breakdown summed per kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfsim.cost.graph import StepBatch
from perfsim.cost.step import StepResult, evaluate_step
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

if TYPE_CHECKING:
    import pandas as pd


def chunk_steps(batch: int, prompt: int, chunk: int) -> list[tuple[StepBatch, int]]:
    """(forward, times it runs) covering `batch` prompts of `prompt` tokens in `chunk`-token steps."""
    if batch * prompt <= chunk:
        return [(StepBatch(prefill_seqs=batch, prefill_tokens=prompt), 1)]
    if prompt <= chunk:
        per, rest = chunk // prompt, batch % (chunk // prompt)
        out = [(StepBatch(prefill_seqs=per, prefill_tokens=prompt), batch // per)]
        return out + ([(StepBatch(prefill_seqs=rest, prefill_tokens=prompt), 1)] if rest else [])
    return [(StepBatch(prefill_seqs=1, prefill_tokens=min(chunk, prompt - past), prefill_past=past), batch)
            for past in range(0, prompt, chunk)]


def chunked_prefill(model: ModelSpec, hw: HardwareProfile, batch: int, prompt: int, chunk: int,
                    execution: Execution) -> StepResult:
    """The whole batch's prefill in chunks, as one StepResult (a single forward when it fits)."""
    steps = chunk_steps(batch, prompt, chunk)
    if len(steps) == 1 and steps[0][1] == 1:
        return evaluate_step(model, hw, steps[0][0], execution)
    results = [(evaluate_step(model, hw, step, execution), times) for step, times in steps]
    gpu = sum(r.gpu_time_s * t for r, t in results)
    latency = sum(r.latency_s * t for r, t in results)
    return StepResult(
        latency_s=latency, gpu_time_s=gpu, launch_overhead_s=latency - gpu,
        flops=sum(r.flops * t for r, t in results), bytes=sum(r.bytes * t for r, t in results),
        tokens=float(batch * prompt), kernels=sum(r.kernels * t for r, t in results),
        breakdown=lambda: _summed_breakdown(results, gpu),
    )


def _summed_breakdown(results: list[tuple[StepResult, int]], gpu: float) -> pd.DataFrame:
    """The forwards' breakdowns summed per kernel kind, built only when asked for (as a single
    forward's is): the frames cost more than pricing the chunks."""
    import pandas as pd  # deferred: `import perfsim` stays light

    frames = []
    for r, times in results:
        frame = r.breakdown.copy()
        for column in ("kernels", "flops", "bytes", "time_s"):
            frame[column] = frame[column] * times
        frames.append(frame)
    keys = ["sublayer", "kernel", "family"]
    joined = pd.concat(frames, ignore_index=True)
    frame = joined.groupby(keys, sort=False, as_index=False).agg(
        count=("count", "max"), kernels=("kernels", "sum"), flops=("flops", "sum"),
        bytes=("bytes", "sum"), time_s=("time_s", "sum"), bound=("bound", "last"))
    frame["time_per_instance_s"] = frame["time_s"] / frame["count"]
    frame["share"] = frame["time_s"] / gpu
    return frame[list(results[0][0].breakdown.columns)]
