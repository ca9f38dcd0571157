"""Sweep executors: where the evaluation tasks of a sweep run.

Each executor maps a picklable function over tasks and yields (task index, result) as results
arrive, so the caller can stream them to disk and show progress. "local" runs in this process,
"process" on a process pool of this machine, "ray" on a Ray cluster (`address="auto"` joins a
running one; None starts a local Ray). Any `concurrent.futures.Executor` also works (`Futures`).
Ray is imported only when the "ray" executor is created.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from perfsim.extras import require
from perfsim.registry import Registry


class SweepExecutor:
    """Base class; subclasses are dataclasses registered with `@register_executor("name")`."""

    name = "executor"

    def run(self, fn: Callable, tasks: Sequence) -> Iterator[tuple[int, object]]:
        raise NotImplementedError


_EXECUTORS: Registry[type[SweepExecutor]] = Registry("executor", "name")
register_executor = _EXECUTORS.register
registered_executors = _EXECUTORS.as_dict


@register_executor("local")
@dataclass(frozen=True)
class Local(SweepExecutor):
    def run(self, fn, tasks):
        for i, task in enumerate(tasks):
            yield i, fn(task)


@dataclass(frozen=True)
class Futures(SweepExecutor):
    """Wraps any concurrent.futures.Executor (thread/process pools, dask's get_executor(), ...)."""

    executor: Executor

    def run(self, fn, tasks):
        futures = {self.executor.submit(fn, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()


@register_executor("process")
@dataclass(frozen=True)
class Process(SweepExecutor):
    workers: int | None = None

    def run(self, fn, tasks):
        with ProcessPoolExecutor(max_workers=self.workers or os.cpu_count()) as pool:
            yield from Futures(pool).run(fn, tasks)


@register_executor("ray")
@dataclass(frozen=True)
class Ray(SweepExecutor):
    """Tasks as Ray remote calls. Joins an initialised Ray, else `ray.init(address)`; shuts down
    only a Ray it started itself."""

    address: str | None = None
    workers: int | None = None

    def run(self, fn, tasks):
        ray = require("ray", extra="distributed", feature="the ray executor")
        started = not ray.is_initialized()
        if started:
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
            )
        try:
            remote = ray.remote(fn)
            pending = {remote.remote(task): i for i, task in enumerate(tasks)}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield pending.pop(ref), ray.get(ref)
        finally:
            if started:
                ray.shutdown()


def make_executor(spec: str | SweepExecutor | Executor | None = None, **params) -> SweepExecutor:
    """An executor from a registered name (local, process, ray), an object, or a futures pool."""
    if isinstance(spec, SweepExecutor):
        return spec
    if isinstance(spec, Executor):
        return Futures(spec)
    name = spec or "local"
    params = {k: v for k, v in params.items() if v is not None}
    return _EXECUTORS.create(name, **params)
