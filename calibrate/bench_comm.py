"""NCCL all-reduce across the GPUs of this machine (only when there are several): one process per
GPU, bus bandwidth over message sizes from decode activations to large prefill chunks."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from perfsim.calibrate.cases import BenchContext, Case
from perfsim.calibrate.timing import Timing, robust_summary

_SIZES_BYTES = [2**p for p in range(12, 31, 2)]  # 4 KiB .. 1 GiB


def _worker(rank: int, world: int, sizes: list[int], out: dict) -> None:
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for nbytes in sizes:
        x = torch.ones(nbytes // 2, dtype=torch.bfloat16, device=f"cuda:{rank}")
        samples = []
        for rep in range(25):
            dist.barrier()
            start.record()
            dist.all_reduce(x)
            end.record()
            torch.cuda.synchronize()
            if rep >= 5:
                samples.append(start.elapsed_time(end) * 1e-3)
        if rank == 0:
            out[nbytes] = samples
    dist.destroy_process_group()


def _allreduce(ctx: BenchContext) -> list[tuple[dict, Timing]]:
    world = torch.cuda.device_count()
    manager = mp.Manager()
    out = manager.dict()
    mp.spawn(_worker, args=(world, _SIZES_BYTES, out), nprocs=world, join=True)
    return [({"bytes_per_gpu": n, "num_gpus": world}, robust_summary(np.asarray(out[n]), "cuda_events"))
            for n in _SIZES_BYTES]


def comm_cases(ctx: BenchContext) -> list[Case]:
    if not ctx.device.startswith("cuda") or torch.cuda.device_count() < 2:
        return []
    return [Case("comm", "nccl_all_reduce", {}, None, 0.0, custom=_allreduce)]
