"""Speculative draft steps pay the runtime's proposer host costs, not the engine's per-step ones."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfsim
from perfsim.decoding import Speculative
from perfsim.io.load import load_hardware, load_model, load_runtime
from perfsim.spec.deployment import Execution

ROOT = Path(__file__).resolve().parents[2]
MODEL, HW = load_model("llama-3.1-8b"), load_hardware("h100-sxm")


def _cycle_s(spec: Speculative, execution: Execution) -> float:
    return float(spec.iteration_latency(MODEL, HW, 1, 512, execution))


@given(k=st.integers(1, 8), per_step_s=st.floats(1e-5, 2e-3))
def test_eager_draft_steps_each_pay_the_per_draft_step_cost(k, per_step_s):
    spec = Speculative(k=k, mean_accepted_tokens=1.0 + k / 2)
    eager = Execution(cuda_graphs=False)
    extra = _cycle_s(spec, replace(eager, host_per_draft_step_s=per_step_s)) - _cycle_s(spec, eager)
    assert extra == pytest.approx(k * per_step_s, rel=1e-9)


def test_under_cuda_graphs_the_draft_steps_replay_without_per_step_host_cost():
    spec = Speculative(k=5, mean_accepted_tokens=3.0)
    graphs = Execution()
    assert _cycle_s(spec, replace(graphs, host_per_draft_step_s=1e-3)) == _cycle_s(spec, graphs)


def test_engine_per_step_cost_is_paid_once_per_cycle_not_per_draft_step():
    spec = Speculative(k=6, mean_accepted_tokens=3.0)
    base = Execution()
    extra = _cycle_s(spec, replace(base, host_overhead_per_step_s=1e-3)) - _cycle_s(spec, base)
    assert extra == pytest.approx(1e-3, rel=1e-9)


@pytest.mark.parametrize("width", [1, 4])
def test_per_drafted_token_cost_scales_with_draft_steps_and_tree_width(width):
    spec = Speculative(k=3, acceptance=0.6, tree_width=width)
    base = Execution()
    extra = _cycle_s(spec, replace(base, host_per_drafted_token_s=1e-5)) - _cycle_s(spec, base)
    assert extra == pytest.approx(3 * width * 1e-5, rel=1e-9)


def test_sglang_resolves_its_fitted_per_draft_step_and_eager_eagle_gets_slower():
    runtime = load_runtime("sglang")
    assert runtime.host.per_draft_step is not None
    ex = Execution.of(runtime, HW, cuda_graphs=False)
    assert ex.host_per_draft_step_s == runtime.host.per_draft_step.value_s > 0
    eagle = Speculative(k=6, mean_accepted_tokens=4.5)
    eager = Execution(cuda_graphs=False)
    with_cost = perfsim.generate(MODEL, HW, 1, 256, 256, eagle, runtime=runtime, execution=eager)
    bare = replace(ex, host_per_draft_step_s=0.0)  # the same resolved runtime, minus the draft cost
    without = perfsim.generate(MODEL, HW, 1, 256, 256, eagle, execution=bare, runtime=None)
    assert with_cost.e2e_s > without.e2e_s


def test_fit_script_reproduces_the_value_in_the_sglang_yaml():
    spec = importlib.util.spec_from_file_location("fit_draft_host", ROOT / "benchmarks" / "fit_draft_host.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    fit_rows, validation = mod.rows_by_runtime()["sglang"]
    assert len(fit_rows) >= 2 and validation  # eager rows fit, graph rows only validate
    assert all(r.x("per_draft_step") > 0 for r in fit_rows)
    assert all(r.x("per_draft_step") == 0 for r in validation)
    fit = mod.fit_runtime(fit_rows, validation, candidates=("per_draft_step",))
    fitted = fit.fit.values["per_draft_step"]
    assert load_runtime("sglang").host.per_draft_step.value_s == pytest.approx(fitted, rel=1e-3)
