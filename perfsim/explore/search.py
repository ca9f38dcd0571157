"""Evolutionary multi-objective design search over hybrid architectures (optuna NSGA-II).

The space (space.yaml `search:` or a mapping) ranges over HybridDesign fields: number of layers,
hidden size, FFN ratio, heads, and a per-layer choice of mixer (attention, sliding window, Mamba2,
DeltaNet, Gated DeltaNet, GLA) and of FFN (MLP, MoE), as in the Nemotron-Flash evolutionary search.
Every trial is priced on one device and workload by the vectorised predictor and scored by an
accuracy model. Constraints (parameters, memory, latency, any result column) go to NSGA-II's
constrained domination, so infeasible designs lose to feasible ones; the returned front holds only
feasible, non-dominated designs. optuna is imported only when a search runs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from perfsim.accuracy import make_accuracy
from perfsim.cost.runtime import load_runtime_like
from perfsim.decoding import make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.explore.design import HybridDesign
from perfsim.explore.frontier import pareto_mask
from perfsim.explore.score import score_design
from perfsim.explore.space import Bound, Choices, Range, Space, Workload, load_space
from perfsim.extras import require
from perfsim.io.load import load_hardware

METRICS = (
    "params",
    "active_params",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "tokens_per_s",
    "memory_bytes",
    "max_batch",
    "max_batch_tokens_per_s",
    "accuracy",
)
_PER_LAYER = ("mixers", "ffns")
_PENALTY = 1e30


@dataclass(frozen=True, eq=False)
class SearchResult:
    """`trials`: every evaluated design with its metrics, `feasible` and `on_front`; `front`: the
    feasible non-dominated designs, best first by the first objective."""

    trials: pd.DataFrame
    front: pd.DataFrame
    objectives: dict[str, str]


def _suggest(trial, name: str, values):
    if isinstance(values, Range):
        if values.integer and not values.log:
            return trial.suggest_int(name, int(values.low), int(values.high), step=int(values.step or 1))
        if values.integer:
            return trial.suggest_int(name, int(values.low), int(values.high), log=True)
        return trial.suggest_float(name, values.low, values.high, step=values.step, log=values.log)
    options = values.choices if isinstance(values, Choices) else values
    return trial.suggest_categorical(name, list(options))


def _max_layers(space: Space) -> int:
    layers = space.search.get("n_layers", (space.architecture or {}).get("n_layers"))
    if isinstance(layers, Range):
        return int(layers.high)
    if isinstance(layers, Choices | list):
        return int(max(layers.choices if isinstance(layers, Choices) else layers))
    if layers is None:
        raise PerfsimInputError("search: give n_layers in 'search' or in 'architecture'.")
    return int(layers)


def _check_names(objectives: Mapping[str, str], constraints: Mapping[str, Bound]) -> None:
    for kind, names in (("objective", objectives), ("constraint", constraints)):
        for name in names:
            if name not in METRICS:
                raise PerfsimInputError(f"search: unknown {kind} '{name}'; allowed: {', '.join(METRICS)}.")
    for name, sense in objectives.items():
        if sense not in ("min", "max"):
            raise PerfsimInputError(f"search: objective '{name}' must be 'min' or 'max' (got {sense!r}).")


def search(
    space=None,
    *,
    objectives: Mapping[str, str] | None = None,
    constraints: Mapping[str, Mapping[str, float] | Bound] | None = None,
    hardware=None,
    budget: int | None = None,
    workload: Mapping[str, int] | None = None,
    accuracy=None,
    decoding=None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    runtime=None,
) -> SearchResult:
    """NSGA-II over `space` (Space, mapping or space.yaml path); keyword arguments override the
    space's objectives, constraints ({metric: {min, max}}), hardware (one device), budget
    (trials), workload, accuracy, decoding and runtime (id, path or RuntimeProfile)."""
    optuna = require("optuna", extra="search", feature="design search")

    space = load_space(space)
    if not space.search:
        raise PerfsimInputError("search: the space has no 'search' section (architecture fields to vary).")
    if space.architecture is None:
        raise PerfsimInputError("search: the space needs an 'architecture' base (HybridDesign fields).")
    objectives = dict(objectives or space.objectives)
    bounds = (
        {k: v if isinstance(v, Bound) else Bound(**v) for k, v in (constraints or {}).items()}
        if constraints is not None
        else dict(space.constraints)
    )
    _check_names(objectives, bounds)
    hw = load_hardware(hardware or space.devices[0])
    work = Workload(**workload) if workload is not None else space.workload
    budget = budget or space.budget
    acc_model = make_accuracy(accuracy if accuracy is not None else space.accuracy)
    dec = decoding if decoding is not None else space.decoding
    strategy = (
        make_decoding(dec.get("name"), **{k: v for k, v in dec.items() if k != "name"})
        if isinstance(dec, dict)
        else make_decoding(dec)
    )
    layers = _max_layers(space)
    profile = load_runtime_like(runtime if runtime is not None else space.runtime)
    rows: list[dict] = []

    def objective(trial):
        picked = {}
        for name, values in space.search.items():
            if name in _PER_LAYER:
                picked[name] = tuple(_suggest(trial, f"{name[:-1]}_{i}", values) for i in range(layers))
            else:
                picked[name] = _suggest(trial, name, values)
        arch = {**space.architecture, **picked}
        n = int(arch["n_layers"])
        for name in _PER_LAYER:
            if isinstance(arch.get(name), tuple):
                arch[name] = arch[name][:n]
        design = HybridDesign(**arch)
        row = {
            "trial": trial.number,
            **{k: v for k, v in arch.items() if k not in _PER_LAYER},
            **{k: ",".join(v) if isinstance(v, tuple) else v for k, v in arch.items() if k in _PER_LAYER},
        }
        try:
            model = design.to_model()
        except PerfsimInputError as exc:  # impossible shape (e.g. heads do not divide the width)
            row.update(design=design.design_id, valid=False, fits=False, reason=str(exc))
            violations = [1.0] * (len(bounds) + 1)
        else:
            score = score_design(model, hw, work.batch, work.prompt_len, work.output_len,
                                 decoding=strategy, accuracy=acc_model, execution=space.execution,
                                 runtime=profile)
            metrics = {
                "params": score.params,
                "active_params": score.active_params,
                **score.first(),
                "accuracy": score.accuracy,
            }
            row.update(design=model.id, valid=True, reason="", **metrics)
            violations = [0.0 if metrics["fits"] else 1.0]
            for name, bound in bounds.items():
                value = metrics[name]
                if value != value:  # NaN: does not fit, already penalised
                    violations.append(1.0)
                    continue
                violations.append(
                    max(
                        (value - bound.max) / abs(bound.max or 1) if bound.max is not None else 0.0,
                        (bound.min - value) / abs(bound.min or 1) if bound.min is not None else 0.0,
                    )
                )
        row["feasible"] = all(v <= 0 for v in violations)
        rows.append(row)
        names = ["fits"] + list(bounds)
        for name, violation in zip(names, violations, strict=True):
            trial.set_constraint(name, violation)
        values = []
        for name, sense in objectives.items():
            value = row.get(name, math.nan)
            bad = value is None or value != value
            values.append((_PENALTY if sense == "min" else -_PENALTY) if bad else float(value))
        return values

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.NSGAIISampler(
            seed=space.seed if seed is None else seed, population_size=max(8, min(50, budget // 4))
        )
        study = optuna.create_study(
            directions=["minimize" if s == "min" else "maximize" for s in objectives.values()],
            sampler=sampler,
        )
        callbacks = [lambda st, tr: progress(tr.number + 1, budget)] if progress else []
        study.optimize(objective, n_trials=budget, callbacks=callbacks)
    trials = pd.DataFrame(rows)
    feasible = trials[trials["feasible"]]
    if feasible.empty:
        limits = (
            ", ".join(f"{k} {v.model_dump(exclude_none=True)}" for k, v in bounds.items()) or "fit in memory"
        )
        raise PerfsimInputError(
            f"search: none of {budget} designs met the constraints ({limits}) on {hw.id}; "
            "loosen them, widen the space or raise the budget."
        )
    trials["on_front"] = False
    trials.loc[feasible.index, "on_front"] = pareto_mask(feasible, objectives)
    first, sense = next(iter(objectives.items()))
    front = (
        trials[trials["on_front"]]
        .drop_duplicates("design")
        .sort_values(first, ascending=sense == "min", ignore_index=True)
    )
    return SearchResult(trials=trials, front=front, objectives=objectives)
