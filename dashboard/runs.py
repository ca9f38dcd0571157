"""Library calls behind `st.cache_resource`, keyed on the validated what-if.

Results are cached as objects, not pickled copies: they are frozen (frames are never mutated
here), pickling costs time, and a StepResult's lazily built breakdown is not picklable.

Model, device and runtime objects are passed with a leading underscore (not hashed); the Setup's
digest of their JSON (and of the deployment) stands in for them, so an edit of any field is a new
cache entry and returning to a previous what-if is instant. Exceptions (PerfsimInputError) are
not cached; pages show them.
"""

from __future__ import annotations

from typing import Literal, TypedDict

import numpy as np
import pandas as pd
import streamlit as st

import perfsim
from perfsim.cost.params import operator_params
from perfsim.cost.runtime import resolve_execution
from perfsim.dashboard.setup import ReadySetup
from perfsim.decoding import DecodingStrategy, free_token_slots


class _CacheOptions(TypedDict):
    max_entries: int
    show_spinner: bool


_CACHE: _CacheOptions = {"max_entries": 256, "show_spinner": False}


@st.cache_resource(**_CACHE)
def _request(key: str, _model, _hw, batch: int, prompt_len: int, output_len: int, decoding_key: str,
             _decoding, check_memory: bool, _setup) -> perfsim.RequestResult:
    return perfsim.generate(_model, _hw, batch, prompt_len, output_len, _decoding, check_memory=check_memory,
                            runtime=_setup.runtime, execution=_setup.execution_arg)


def request(setup: ReadySetup, *, batch: int | None = None, decoding: DecodingStrategy | None = None,
            check_memory: bool = True) -> perfsim.RequestResult:
    """`perfsim.generate` for the what-if (optionally another batch or decoding strategy)."""
    decoding = setup.decoding if decoding is None else decoding
    batch = setup.batch if batch is None else batch
    return _request(setup.key, setup.model, setup.hardware, batch, setup.prompt_len, setup.output_len,
                    repr(decoding), decoding, check_memory, setup)


def context_len(setup: ReadySetup) -> int:
    """Tokens held per sequence at the end of a request (what `generate` sizes memory for)."""
    return setup.prompt_len + setup.output_len + setup.model.prefix_tokens


@st.cache_resource(**_CACHE)
def _memory(key: str, _model, _hw, batch: int, context: int, decoding_key: str,
            _setup) -> perfsim.MemoryReport:
    return perfsim.memory(_model, _hw, batch, context, _setup.decoding, runtime=_setup.runtime,
                          tensor_parallel=_setup.execution.tensor_parallel)


def memory(setup: ReadySetup) -> perfsim.MemoryReport:
    """`perfsim.cost.memory` at the what-if's batch and final context (works when it does not fit)."""
    return _memory(setup.key, setup.model, setup.hardware, setup.batch, context_len(setup),
                   repr(setup.decoding), setup)


def memory_parts(setup: ReadySetup, report: perfsim.MemoryReport) -> pd.DataFrame:
    """What occupies memory: weights split by operator family (from the library's parameter
    counts), then KV cache, recurrent state, activations and the runtime reserve."""
    model = setup.model
    norm = model.hidden_size * (2 if model.norm == "layernorm" else 1)
    by_family: dict[str, float] = {}
    for spec in model.sublayers:
        family = {"mlp": "gemm"}.get(spec.type, spec.type)
        label = {"gemm": "MLP weights"}.get(family, f"{family} weights")
        by_family[label] = by_family.get(label, 0.0) + operator_params(spec, model.hidden_size, norm).total
    per_param = report.weights_bytes / perfsim.model_params(model).total
    rows = [(name, count * per_param) for name, count in by_family.items()]
    rows.append(("embeddings", report.weights_bytes - sum(b for _, b in rows)))
    rows += [("KV cache", report.kv_cache_bytes), ("recurrent state", report.state_bytes),
             ("activations", report.activation_bytes), ("runtime reserve", report.reserved_bytes)]
    return pd.DataFrame([r for r in rows if r[1] > 0], columns=["part", "bytes"])


@st.cache_resource(**_CACHE)
def _grid(key: str, _models, _hw, batch: tuple, context: tuple,
          phase: Literal["decode", "prefill"], _setup) -> pd.DataFrame:
    return perfsim.evaluate_grid(_models, [_hw], list(batch), list(context), phase=phase,
                                 execution=_setup.execution_arg, runtime=_setup.runtime)


def grid(setup: ReadySetup, models: list, batch, context, phase: Literal["decode", "prefill"],
         models_key: str) -> pd.DataFrame:
    """`perfsim.evaluate_grid` on the what-if's device for models x batch x context."""
    return _grid(f"{setup.key}/{models_key}", models, setup.hardware, tuple(int(b) for b in batch),
                 tuple(int(c) for c in context), phase, setup)


@st.cache_resource(**_CACHE)
def _speedups(key: str, _model, _hw, prompt_len: int, output_len: int, batches: tuple, strategies_key: str,
              _strategies: dict, _setup) -> pd.DataFrame:
    rows = []
    deploy = {"runtime": _setup.runtime, "execution": _setup.execution_arg}
    for batch in batches:
        try:
            ar = perfsim.generate(_model, _hw, batch, prompt_len, output_len, **deploy)
        except perfsim.PerfsimInputError:
            continue  # this batch does not fit: no point for any strategy
        for name, strategy in _strategies.items():
            try:
                result = perfsim.generate(_model, _hw, batch, prompt_len, output_len, strategy, **deploy)
            except perfsim.PerfsimInputError:
                continue
            rows.append({"strategy": name, "batch": batch, "speedup": ar.e2e_s / result.e2e_s,
                         "tpot_s": result.tpot_s, "ar_tpot_s": ar.tpot_s,
                         "tokens_per_iteration": result.tokens_per_iteration})
    return pd.DataFrame(rows, columns=["strategy", "batch", "speedup", "tpot_s", "ar_tpot_s",
                                       "tokens_per_iteration"])


def speedups(setup: ReadySetup, strategies: dict[str, DecodingStrategy], batches) -> pd.DataFrame:
    """End-to-end speed-up over autoregressive decoding per strategy and batch (batches that do
    not fit in memory are left out), from `perfsim.generate`."""
    return _speedups(setup.key, setup.model, setup.hardware, setup.prompt_len, setup.output_len,
                     tuple(int(b) for b in batches), repr(strategies), strategies, setup)


@st.cache_resource(**_CACHE)
def _slots(key: str, _model, _hw, context: int, batch: int, _setup) -> pd.DataFrame:
    explicit = _setup.runtime is not None or _setup.execution_arg is not None
    execution = resolve_execution(_setup.runtime, _hw, _setup.execution) if explicit else None
    return free_token_slots(_model, _hw, context, batch=batch, execution=execution)


def slots(setup: ReadySetup) -> pd.DataFrame:
    """`perfsim.decoding.free_token_slots` at the what-if's batch and prompt length."""
    return _slots(setup.key, setup.model, setup.hardware, setup.prompt_len + setup.model.prefix_tokens,
                  setup.batch, setup)


@st.cache_resource(**_CACHE)
def _serving(key: str, _model, _hw, workload_key: str, _workload, decoding_key: str, _decoding,
             seed: int, _setup) -> perfsim.ServingResult:
    d = _setup.deploy
    return perfsim.simulate_serving(_model, _hw, _workload, d.engine, decoding=_decoding, seed=seed,
                                    execution=_setup.execution_arg, replicas=d.replicas, runtime=d.runtime)


def serving(setup: ReadySetup, workload, seed: int) -> perfsim.ServingResult:
    """`perfsim.simulate_serving` of `workload` with the what-if's model, device and decoding."""
    return _serving(setup.key, setup.model, setup.hardware, repr(workload), workload, repr(setup.decoding),
                    setup.decoding, seed, setup)


def powers_of_two(low: int, high: int) -> list[int]:
    """1, 2, 4, ... between low and high inclusive (sweep axes)."""
    return [int(v) for v in 2 ** np.arange(int(np.log2(low)), int(np.log2(high)) + 1)]


@st.cache_resource(**_CACHE)
def _rollouts(key: str, _model, _hw, rl_key: str, _rl, seed: int, _setup):
    return perfsim.simulate_rollouts(_model, _hw, rl=_rl, seed=seed, runtime=_setup.runtime)


def rollouts(setup: ReadySetup, rl, seed: int = 0):
    """`perfsim.simulate_rollouts` of the what-if's model on its device under `rl`."""
    return _rollouts(setup.key, setup.model, setup.hardware, repr(rl), rl, seed, setup)


@st.cache_resource(**_CACHE)
def _frontier(key: str, names: tuple, _designs, _hardware, batch: int, prompt_len: int, output_len: int,
              decoding_key: str, _decoding, _setup) -> pd.DataFrame:
    return perfsim.evaluate_frontier(_designs, _hardware, batch=batch, prompt_len=prompt_len,
                                     output_len=output_len, decoding=_decoding,
                                     execution=_setup.execution_arg, runtime=_setup.runtime)


def frontier(setup: ReadySetup, designs: list, hardware: list) -> pd.DataFrame:
    """`perfsim.evaluate_frontier` of `designs` (the what-if's model first, then bundled ids) on
    `hardware` (the what-if's device first) at the what-if's workload and decoding."""
    names = (tuple(d if isinstance(d, str) else d.id for d in designs),
             tuple(h if isinstance(h, str) else h.id for h in hardware))
    return _frontier(setup.key, names, designs, hardware, setup.batch, setup.prompt_len, setup.output_len,
                     repr(setup.decoding), setup.decoding, setup)


@st.cache_resource(**_CACHE)
def _compare(key: str, _base, _variant, _hw, prompt_len: int, output_len: int, _setup) -> pd.DataFrame:
    return perfsim.compare(_base, _variant, _hw, prompt_len=prompt_len, output_len=output_len,
                           execution=_setup.execution_arg, runtime=_setup.runtime)


def compare(base: ReadySetup, variant: ReadySetup) -> pd.DataFrame:
    """`perfsim.compare` of the baseline's model against the variant's, on the variant's device and
    deployment at the variant's prompt and output lengths (what `perfsim compare` prints)."""
    return _compare(f"{base.key}/{variant.key}", base.model, variant.model, variant.hardware,
                    variant.prompt_len, variant.output_len, variant)


@st.cache_resource(**_CACHE)
def _capacity(key: str, _model, _hw, prompt_len: int, output_len: int, _setup) -> float:
    from perfsim.cost.max_batch import max_batch_throughput

    try:
        peak = max_batch_throughput(_model, _hw, prompt_len, output_len, execution=_setup.execution_arg,
                                    runtime=_setup.runtime, powers_of_two=True)
    except perfsim.PerfsimInputError:
        return float("nan")
    return peak.result.requests_per_s * _setup.deploy.replicas


def capacity_rps(setup: ReadySetup) -> float:
    """Requests/s the deployment sustains at the largest batch that fits (NaN when none fits): the
    scale the Serving tab's default arrival rate is set from."""
    return _capacity(setup.key, setup.model, setup.hardware, setup.prompt_len, setup.output_len, setup)
