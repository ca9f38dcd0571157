"""A microbenchmark case: what to run, on which shapes, and the columns it adds to the table.

Cases are lazy (operands are only allocated when the case runs), so a whole plan can be listed
and its time estimated before anything is measured. Shape columns use perfsim's own names (m, n,
k, batch, q_len, kv_len, ...) because `perfsim.calibration.fit` rebuilds the matching perfsim op
from them to fit the profile's efficiencies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from perfsim.calibrate.timing import Timing, copies_to_defeat_cache, measure

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class BenchContext:
    device: str
    quick: bool
    #: perfsim dtype names measured for matrix work ("fp32" on CPU, "bf16"/"fp16"(/"fp8") on CUDA).
    dtypes: tuple[str, ...]
    #: Last-level cache (GPU L2, CPU L3): operands rotate over copies that exceed it.
    cache_bytes: float
    #: Wall time one measurement aims for (repetitions adapt to it).
    budget_s: float
    #: Rough device speeds, used only to estimate how long the plan takes.
    flops_per_s: float
    bytes_per_s: float
    fill_bytes_per_s: float  # torch.randn throughput, for operand set-up


@dataclass(frozen=True)
class Case:
    family: str  # fitting family: gemm, memory, attention, scan, moe, launch, comm
    kind: str  # what ran, e.g. "matmul", "copy", "sdpa_decode"
    shape: dict  # table columns (perfsim names) that identify the work
    #: Builds one set of operands on the device and returns a zero-argument call doing the work.
    make: Callable[[], Callable[[], object]] | None
    bytes_per_call: float
    flops: float = 0.0
    #: Replaces the standard harness: launch and collective benchmarks time themselves and may
    #: return several rows, each (extra shape columns, timing).
    custom: Callable[[BenchContext], list[tuple[dict, Timing]]] | None = field(default=None, compare=False)

    def estimate_s(self, ctx: BenchContext) -> float:
        """Expected wall time of this case, set-up included (for the progress bar's ETA)."""
        per_call = max(self.flops / ctx.flops_per_s, self.bytes_per_call / ctx.bytes_per_s, 2e-5)
        copies = copies_to_defeat_cache(self.bytes_per_call, ctx.cache_bytes)
        fill_s = copies * self.bytes_per_call / ctx.fill_bytes_per_s  # random operands
        return 0.02 + fill_s + min(max(ctx.budget_s, 3 * per_call), 100 * per_call) + 3 * per_call

    def run(self, ctx: BenchContext) -> list[tuple[dict, Timing]]:
        if self.custom is not None:
            return self.custom(ctx)
        assert self.make is not None  # only custom cases leave make unset
        make = self.make
        copies = copies_to_defeat_cache(self.bytes_per_call, ctx.cache_bytes)
        calls = [make() for _ in range(copies)]
        return [({}, measure(calls, ctx.device, budget_s=ctx.budget_s))]


def randn(shape, dtype: str, device: str) -> torch.Tensor:
    return torch.randn(*shape, dtype=TORCH_DTYPES[dtype], device=device)
