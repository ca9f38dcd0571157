"""How the phases of consecutive RL steps are placed in time (a registry: add a pipeline with
`@register_pipeline("name")` and a `schedule` method).

Pools: colocated runs every phase on one pool of GPUs, one phase at a time. Disaggregated has a
generation pool and a training pool; a weight sync occupies both (the generators must be between
batches to load new weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.registry import Registry


@dataclass(frozen=True)
class Phases:
    """Per-step durations (arrays of length `steps`)."""

    generation_s: np.ndarray
    training_s: np.ndarray  # log-prob forwards + policy update
    sync_s: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.generation_s.size)


@dataclass(frozen=True)
class Interval:
    pool: str
    phase: str
    step: int
    start_s: float
    end_s: float


class Pipeline:
    """Base class of RL step pipelines (the extension point of `perfsim.rollout`).

    Registered with `@register_pipeline("name")` (the name `RolloutConfig(pipeline=...)` and the
    CLI use; it is also written to `cls.name`); created with no arguments.

    Must implement:
        schedule(phases, colocated) -> list[Interval]
            Place every step's generation, training and sync on the pools (`_pools(colocated)`:
            one "colocated" pool, or "generation" and "training"); intervals on one pool must not
            overlap. `sequential(...)` is the on-policy building block.

    May override:
        off_policy_steps (class attribute)
            Policy versions between the weights that generated a step's rollouts and those
            trained (0 on-policy; 1 for one-step-off-policy overlap).
    """

    name = "pipeline"
    #: Policy versions between the weights that generated a step's rollouts and those trained.
    off_policy_steps = 0

    def schedule(self, phases: Phases, colocated: bool) -> list[Interval]:
        raise NotImplementedError


_PIPELINES: Registry[type[Pipeline]] = Registry("pipeline", "name")
register_pipeline = _PIPELINES.register
registered_pipelines = _PIPELINES.as_dict
create_pipeline = _PIPELINES.create


def _pools(colocated: bool) -> tuple[str, str]:
    return ("colocated", "colocated") if colocated else ("generation", "training")


def _sync_intervals(gen_pool: str, train_pool: str, step: int, start: float, end: float) -> list[Interval]:
    pools = {gen_pool, train_pool}
    return [Interval(p, "sync", step, start, end) for p in sorted(pools)]


def sequential(phases: Phases, colocated: bool) -> list[Interval]:
    """Generate, then train, then sync; the next step starts after the sync."""
    gen_pool, train_pool = _pools(colocated)
    out, t = [], 0.0
    for n in range(phases.steps):
        g, tr, s = phases.generation_s[n], phases.training_s[n], phases.sync_s[n]
        out.append(Interval(gen_pool, "generation", n, t, t + g))
        out.append(Interval(train_pool, "training", n, t + g, t + g + tr))
        out += _sync_intervals(gen_pool, train_pool, n, t + g + tr, t + g + tr + s)
        t += g + tr + s
    return out


@register_pipeline("sync")
class Synchronous(Pipeline):
    """On-policy: every step's rollouts come from the weights of the step before."""

    def schedule(self, phases, colocated):
        return sequential(phases, colocated)


@register_pipeline("partial")
class PartialRollouts(Synchronous):
    """Synchronous timing; the planner cuts each rollout at a per-step token budget and carries
    the rest over (Kimi k1.5's partial rollouts), so no step waits for the whole long tail."""


@register_pipeline("async")
class OneStepOffPolicy(Pipeline):
    """Generation of step n+1 overlaps training of step n (rollouts one policy version stale).

    Generation n needs the weights of training n-2, so it waits for sync n-2; training n needs
    generation n and the training pool free after sync n-1; sync n happens once training n is
    done and the generators have finished batch n+1. Steady state: max(gen, train) + sync per
    step instead of gen + train + sync. One colocated pool cannot overlap anything, so there it
    runs sequentially.
    """

    off_policy_steps = 1

    def schedule(self, phases, colocated):
        if colocated:
            return sequential(phases, colocated)
        steps, out = phases.steps, []
        gen_end = np.zeros(steps)
        sync_end = np.zeros(steps)

        def generate(n: int) -> None:
            start = max(gen_end[n - 1] if n else 0.0, sync_end[n - 2] if n >= 2 else 0.0)
            gen_end[n] = start + phases.generation_s[n]
            out.append(Interval("generation", "generation", n, start, gen_end[n]))

        generate(0)
        for n in range(steps):
            if n + 1 < steps:
                generate(n + 1)
            start = max(gen_end[n], sync_end[n - 1] if n else 0.0)
            train_end = start + phases.training_s[n]
            out.append(Interval("training", "training", n, start, train_end))
            sync_start = max(train_end, gen_end[n + 1] if n + 1 < steps else 0.0)
            sync_end[n] = sync_start + phases.sync_s[n]
            out += _sync_intervals("generation", "training", n, sync_start, sync_end[n])
        return out
