"""What a rollout simulation returns: per-step phases, a timeline with bubbles, per-rollout
records, and a summary."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from perfsim.rollout.pipelines import Interval


def timeline_frame(intervals: list[Interval], step_ends_s: np.ndarray) -> pd.DataFrame:
    """Busy intervals plus the idle gaps (bubbles) of each pool up to the last step's end, each
    gap attributed to the step whose window [end of step n-1, end of step n) it falls in."""
    busy = pd.DataFrame([vars(i) for i in intervals])
    busy = busy[busy.end_s > busy.start_s]
    rows = []
    bounds = np.concatenate([[0.0], step_ends_s])
    for pool, group in busy.groupby("pool"):
        t = 0.0
        ends = list(zip(group.start_s.to_numpy(), group.end_s.to_numpy(), strict=True))
        for start, end in sorted(ends) + [(bounds[-1], bounds[-1])]:
            if start > t + 1e-12:  # a gap [t, start), split at step boundaries
                cuts = np.clip(bounds, t, start)
                for n in range(step_ends_s.size):
                    if cuts[n + 1] > cuts[n]:
                        rows.append({"pool": pool, "phase": "idle", "step": n,
                                     "start_s": cuts[n], "end_s": cuts[n + 1]})
            t = max(t, end)
    frame = pd.concat([busy, pd.DataFrame(rows, columns=busy.columns)], ignore_index=True)
    frame["duration_s"] = frame.end_s - frame.start_s
    return frame.sort_values(["pool", "start_s", "phase"], ignore_index=True)


@dataclass(frozen=True, eq=False)
class RolloutResult:
    steps: pd.DataFrame  # one row per RL step
    timeline: pd.DataFrame  # pool, phase (generation/training/sync/idle), step, start_s, end_s
    rollouts: pd.DataFrame  # one row per rollout: created, finished and trained step, lengths
    meta: dict = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        """Time to finish all simulated steps (the last weight sync included)."""
        return float(self.steps.end_s.iloc[-1])

    def pool_utilisation(self) -> dict[str, float]:
        """Busy fraction of each pool's GPU-time over the whole run (generation counts the
        engines that are still generating, so a long tail lowers it)."""
        gpus = self.meta["pool_gpus"]
        out = {}
        for pool, count in gpus.items():
            t = self.timeline[self.timeline.pool == pool]
            busy = 0.0
            for phase, group in t.groupby("phase"):
                if phase == "generation":
                    busy += self.steps.generation_busy_gpu_s.sum()
                elif phase != "idle":
                    busy += group.duration_s.sum() * count
            out[pool] = busy / (count * self.total_s) if self.total_s else 0.0
        return out

    def summary(self) -> dict:
        s, n = self.steps, len(self.steps)
        gpus = self.meta["pool_gpus"]
        idle = {pool: float(self.timeline[(self.timeline.pool == pool)
                                          & (self.timeline.phase == "idle")].duration_s.sum())
                for pool in gpus}
        total_gpus = sum(gpus.values())
        out = {
            "steps": n,
            "total_s": self.total_s,
            "step_s": float(s.step_s.mean()),
            "generation_s": float(s.generation_s.mean()),
            "logprob_s": float(s.logprob_s.mean()),
            "update_s": float(s.update_s.mean()),
            "training_s": float(s.training_s.mean()),
            "sync_s": float(s.sync_s.mean()),
            "idle_s": sum(idle[p] * gpus[p] for p in gpus) / total_gpus / n,
            **{f"idle_{pool}_s": idle[pool] / n for pool in gpus},
            "generation_share": float(s.generation_s.sum() / s.step_s.sum()),
            "tokens_per_s": float(s.generated_tokens.sum() / self.total_s),
            "trained_tokens_per_s": float(s.trained_tokens.sum() / self.total_s),
            "rollouts_per_s": float(s.rollouts_trained.sum() / self.total_s),
            "engine_utilisation": float(s.generation_busy_gpu_s.sum()
                                        / (s.generation_s * self.meta["generation_gpus"]).sum()),
            **{f"{pool}_utilisation": float(u) for pool, u in self.pool_utilisation().items()},
            "mean_output_tokens": float(self.rollouts.output_tokens.mean()),
            "truncated_fraction": float(self.rollouts.truncated.mean()),
            "carried_over": int(self.rollouts.step_trained.isna().sum()),
            "preemptions": int(s.preemptions.sum()),
        }
        return out

    def to_chrome_trace(self, path: str | os.PathLike) -> None:
        """The timeline as a Chrome/Perfetto trace: one track per pool."""
        pools = {p: i for i, p in enumerate(sorted(self.timeline.pool.unique()))}
        rows: Iterable[Any] = self.timeline.itertuples()  # named tuples, typed only at run time
        events = [{"name": r.phase, "ph": "X", "pid": pools[r.pool], "tid": 0, "ts": r.start_s * 1e6,
                   "dur": r.duration_s * 1e6, "args": {"step": int(r.step), "pool": r.pool}}
                  for r in rows]
        with open(path, "w") as fh:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, fh)
