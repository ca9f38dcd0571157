"""perfsim: predict LLM latency, throughput and memory on a given accelerator before deploying.

`import perfsim` imports nothing heavy: every public name below is resolved on first use (PEP 562
module `__getattr__`), so the command line and scripts that need one function pay only for the
modules behind it. Core dependencies are numpy, pandas, scipy, simpy, pydantic and PyYAML; torch,
streamlit, plotly and ray are imported only by the calibration, dashboard and distributed-sweep
extras (optuna only when a design search runs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> defining module (`perfsim.<name>` itself for the subpackages accuracy, ops, transforms)
_LAZY: dict[str, str] = {
    "accuracy": "perfsim.accuracy",
    "ops": "perfsim.ops",
    "transforms": "perfsim.transforms",
    "evaluate_grid": "perfsim.cost.batch",
    "StepBatch": "perfsim.cost.graph",
    "MemoryReport": "perfsim.cost.memory",
    "model_params": "perfsim.cost.params",
    "RequestResult": "perfsim.cost.request",
    "decode_step": "perfsim.cost.request",
    "generate": "perfsim.cost.request",
    "memory": "perfsim.cost.request",
    "prefill": "perfsim.cost.request",
    "StepResult": "perfsim.cost.step",
    "evaluate_step": "perfsim.cost.step",
    "step_latency": "perfsim.cost.step",
    "vlm_ttft": "perfsim.cost.vision",
    "PerfsimInputError": "perfsim.errors",
    "compare": "perfsim.explore.compare",
    "HybridDesign": "perfsim.explore.design",
    "evaluate_frontier": "perfsim.explore.frontier",
    "pareto_mask": "perfsim.explore.frontier",
    "SearchResult": "perfsim.explore.search",
    "search": "perfsim.explore.search",
    "sweep": "perfsim.explore.sweep",
    "apply_transforms": "perfsim.io.load",
    "load_hardware": "perfsim.io.load",
    "load_model": "perfsim.io.load",
    "load_runtime": "perfsim.io.load",
    "kernel_time": "perfsim.ops",
    "RolloutConfig": "perfsim.rollout",
    "RolloutResult": "perfsim.rollout",
    "simulate_rollouts": "perfsim.rollout",
    "ClosedLoop": "perfsim.sim",
    "EngineConfig": "perfsim.sim",
    "Gamma": "perfsim.sim",
    "LogNormal": "perfsim.sim",
    "Poisson": "perfsim.sim",
    "ServingResult": "perfsim.sim",
    "Trace": "perfsim.sim",
    "Uniform": "perfsim.sim",
    "max_rate_under_slo": "perfsim.sim",
    "simulate_serving": "perfsim.sim",
    "Execution": "perfsim.spec.deployment",
    "HardwareProfile": "perfsim.spec.hardware",
    "ModelSpec": "perfsim.spec.model",
    "RuntimeProfile": "perfsim.spec.runtime",
}

# subpackages reachable as attributes (`perfsim.sim.X`, `perfsim.spec.model`) without importing them
_SUBPACKAGES = frozenset({
    "accuracy", "calibrate", "calibration", "cli", "cost", "dashboard", "decoding", "errors",
    "explore", "extras", "io", "layers", "ops", "registry", "rollout", "sim", "spec", "transforms",
    "units",
})


def __getattr__(name: str) -> Any:
    """Import the module defining a public name (or a subpackage) on first use and cache it."""
    module = _LAZY.get(name)
    if module is not None:
        value = importlib.import_module(module)
        if module != f"{__name__}.{name}":
            value = getattr(value, name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBPACKAGES})


if TYPE_CHECKING:  # the names as mypy and IDEs see them; imported lazily at run time
    from perfsim import accuracy, ops, transforms
    from perfsim.cost.batch import evaluate_grid
    from perfsim.cost.graph import StepBatch
    from perfsim.cost.memory import MemoryReport
    from perfsim.cost.params import model_params
    from perfsim.cost.request import RequestResult, decode_step, generate, memory, prefill
    from perfsim.cost.step import StepResult, evaluate_step, step_latency
    from perfsim.cost.vision import vlm_ttft
    from perfsim.errors import PerfsimInputError
    from perfsim.explore.compare import compare
    from perfsim.explore.design import HybridDesign
    from perfsim.explore.frontier import evaluate_frontier, pareto_mask
    from perfsim.explore.search import SearchResult, search
    from perfsim.explore.sweep import sweep
    from perfsim.io.load import apply_transforms, load_hardware, load_model, load_runtime
    from perfsim.ops import kernel_time
    from perfsim.rollout import RolloutConfig, RolloutResult, simulate_rollouts
    from perfsim.sim import (
        ClosedLoop,
        EngineConfig,
        Gamma,
        LogNormal,
        Poisson,
        ServingResult,
        Trace,
        Uniform,
        max_rate_under_slo,
        simulate_serving,
    )
    from perfsim.spec.deployment import Execution
    from perfsim.spec.hardware import HardwareProfile
    from perfsim.spec.model import ModelSpec
    from perfsim.spec.runtime import RuntimeProfile

__all__ = [
    "ClosedLoop",
    "EngineConfig",
    "Execution",
    "Gamma",
    "HardwareProfile",
    "HybridDesign",
    "LogNormal",
    "MemoryReport",
    "ModelSpec",
    "PerfsimInputError",
    "Poisson",
    "RequestResult",
    "RolloutConfig",
    "RolloutResult",
    "RuntimeProfile",
    "SearchResult",
    "ServingResult",
    "StepBatch",
    "StepResult",
    "Trace",
    "Uniform",
    "accuracy",
    "apply_transforms",
    "compare",
    "decode_step",
    "evaluate_frontier",
    "evaluate_grid",
    "evaluate_step",
    "generate",
    "kernel_time",
    "load_hardware",
    "load_model",
    "load_runtime",
    "max_rate_under_slo",
    "memory",
    "model_params",
    "ops",
    "pareto_mask",
    "prefill",
    "search",
    "simulate_rollouts",
    "simulate_serving",
    "step_latency",
    "sweep",
    "transforms",
    "vlm_ttft",
]
