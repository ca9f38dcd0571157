"""perfsim: predict LLM latency, throughput and memory on a given accelerator before deploying.

Core import is light (numpy, pandas, pydantic, PyYAML): torch, streamlit, plotly and ray are
imported only by the calibration, dashboard and distributed-sweep extras (optuna only
when a design search runs).
"""

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

__version__ = "0.1.0"

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
