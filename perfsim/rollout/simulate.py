"""`simulate_rollouts`: an RL post-training run, step by step, on the serving simulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import is_dataclass, replace

import numpy as np
import pandas as pd

from perfsim.cost.runtime import DEFAULT_RUNTIME, RuntimeLike, load_runtime_like
from perfsim.decoding import DecodingStrategy
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model
from perfsim.rollout.config import RolloutConfig
from perfsim.rollout.phases import TrainingCost, generate_rollouts, sync_seconds
from perfsim.rollout.pipelines import Phases, create_pipeline
from perfsim.rollout.plan import RolloutPlanner
from perfsim.rollout.result import RolloutResult, timeline_frame


def _strategy_at(cfg: RolloutConfig, step: int) -> DecodingStrategy:
    if cfg.acceptance_by_step is None:
        return cfg.decoding
    schedule = cfg.acceptance_by_step
    strategy = cfg.decoding
    assert is_dataclass(strategy)  # every registered strategy is a frozen dataclass
    return replace(strategy, acceptance=schedule[min(step, len(schedule) - 1)],
                   mean_accepted_tokens=None)


def simulate_rollouts(model, hw, rl: RolloutConfig | None = None, *, seed: int = 0,
                      training_hardware=None, runtime: RuntimeLike = DEFAULT_RUNTIME,
                      progress: Callable[[int, int], None] | None = None) -> RolloutResult:
    """Simulate `rl.steps` RL steps of `model` on `hw` and return phases, timeline and summary.

    Generation runs in the serving simulator (same batching, KV limits and decoding strategies as
    `simulate_serving`); training is priced on `training_hardware` (default: `hw`). Same seed,
    same result. `progress(done, total)` is called after each step's generation. `runtime` (id,
    path or RuntimeProfile; None: runtime-free) runs generation as `simulate_serving(runtime=...)`
    does, `rl.engine`'s non-default fields winning over the runtime's scheduler defaults.
    """
    model, hw = load_model(model), load_hardware(hw)
    profile = load_runtime_like(runtime)
    train_hw = hw if training_hardware is None else load_hardware(training_hardware)
    cfg = rl or RolloutConfig()
    if not isinstance(cfg, RolloutConfig):
        raise PerfsimInputError(f"rl must be a perfsim RolloutConfig (got {type(cfg).__name__}).")
    pipeline = create_pipeline(cfg.pipeline)
    rng = np.random.default_rng(seed)
    planner = RolloutPlanner(cfg, rng)
    longest = cfg.prompt_len.max_tokens + cfg.max_output_len + model.prefix_tokens
    limit = (cfg.engine.max_model_len if cfg.engine and cfg.engine.max_model_len else model.max_context_len)
    if longest > limit:
        raise PerfsimInputError(
            f"rollout config: a rollout can reach {longest} tokens (longest prompt "
            f"{cfg.prompt_len.max_tokens} + max_output_len {cfg.max_output_len}), above the "
            f"{limit}-token context of {model.id}; lower max_output_len to at most "
            f"{limit - cfg.prompt_len.max_tokens - model.prefix_tokens}.")
    training = TrainingCost(model, train_hw, cfg, longest)

    rows, records = [], []
    for n in range(cfg.steps):
        work = planner.step(n)
        strategy = _strategy_at(cfg, n)
        gen = generate_rollouts(model, hw, cfg, strategy, work.context_tokens, work.new_tokens,
                                seed=int(rng.integers(2**31)), runtime=profile)
        trained = work.sequence_tokens[work.finishing]
        logprob_s, update_s = training.seconds(trained)
        rows.append({
            "step": n, "generation_s": gen.duration_s, "logprob_s": logprob_s, "update_s": update_s,
            "training_s": logprob_s + update_s, "sync_s": sync_seconds(model, hw, cfg, strategy),
            "rollouts_generated": int(work.ids.size), "rollouts_trained": int(trained.size),
            "carried_over": work.carried, "generated_tokens": gen.generated_tokens,
            "trained_tokens": int(trained.sum()), "truncated": int(work.truncated[work.finishing].sum()),
            "generation_busy_gpu_s": float(gen.engine_busy_s.sum()) * cfg.tensor_parallel,
            "iterations": gen.iterations, "preemptions": gen.preemptions,
            "acceptance": getattr(strategy, "acceptance", None),
        })
        records.append(pd.DataFrame({
            "rollout": work.ids, "step": n, "new_tokens": work.new_tokens, "finishing": work.finishing,
            "sequence_tokens": work.sequence_tokens, "truncated": work.truncated}))
        if progress is not None:
            progress(n + 1, cfg.steps)

    steps = pd.DataFrame(rows)
    phases = Phases(steps.generation_s.to_numpy(), steps.training_s.to_numpy(), steps.sync_s.to_numpy())
    intervals = pipeline.schedule(phases, colocated=cfg.placement == "colocated")
    ends = np.zeros(cfg.steps)
    for interval in intervals:
        ends[interval.step] = max(ends[interval.step], interval.end_s)
    steps["end_s"] = ends
    steps["step_s"] = np.diff(np.concatenate([[0.0], ends]))
    pools = ({"colocated": cfg.generation_gpus} if cfg.placement == "colocated"
             else {"generation": cfg.generation_gpus, "training": cfg.training_gpus})
    meta = {"model": model.id, "hardware": hw.id, "training_hardware": train_hw.id,
            "pipeline": cfg.pipeline, "placement": cfg.placement, "decoding": cfg.decoding.describe(),
            "off_policy_steps": pipeline.off_policy_steps, "engines": cfg.engines,
            "generation_gpus": cfg.generation_gpus, "pool_gpus": pools, "seed": seed}
    if profile is not None:
        meta["runtime"] = profile.id
    return RolloutResult(steps=steps, timeline=timeline_frame(intervals, ends),
                         rollouts=_per_rollout(pd.concat(records, ignore_index=True)), meta=meta)


def _per_rollout(records: pd.DataFrame) -> pd.DataFrame:
    """One row per rollout: the step it was created, the step it finished (and was trained in)."""
    grouped = records.groupby("rollout")
    out = pd.DataFrame({
        "step_created": grouped.step.min(),
        "steps_generating": grouped.step.count(),
        "generated_tokens": grouped.new_tokens.sum(),
        "sequence_tokens": grouped.sequence_tokens.last(),
        "truncated": grouped.truncated.last(),
    })
    finished = records[records.finishing].set_index("rollout").step
    if finished.index.has_duplicates:
        raise AssertionError("a rollout finished in two steps")
    out["step_trained"] = finished.reindex(out.index).astype("Int64")
    out["output_tokens"] = out.generated_tokens
    return out.reset_index()
