"""perfsim: predict LLM latency, throughput and memory on a given accelerator before deploying.

Core import is light (numpy, pandas, pydantic, PyYAML): torch, streamlit, plotly and ray are
imported only by the calibration, dashboard and distributed-sweep extras.
"""

from perfsim import ops
from perfsim.errors import PerfsimInputError
from perfsim.graph import Execution, StepBatch
from perfsim.hardware import HardwareProfile
from perfsim.load import load_hardware, load_model
from perfsim.memory import MemoryReport
from perfsim.model import ModelSpec
from perfsim.ops import kernel_time
from perfsim.params import model_params
from perfsim.predict import StepResult, evaluate_step, step_latency
from perfsim.request import RequestResult, decode_step, generate, memory, prefill
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
from perfsim.vectorized import evaluate_grid

__version__ = "0.1.0"

__all__ = [
    "ClosedLoop",
    "EngineConfig",
    "Execution",
    "Gamma",
    "HardwareProfile",
    "LogNormal",
    "MemoryReport",
    "ModelSpec",
    "PerfsimInputError",
    "Poisson",
    "RequestResult",
    "ServingResult",
    "StepBatch",
    "StepResult",
    "Trace",
    "Uniform",
    "decode_step",
    "evaluate_grid",
    "evaluate_step",
    "generate",
    "kernel_time",
    "load_hardware",
    "load_model",
    "max_rate_under_slo",
    "memory",
    "model_params",
    "ops",
    "prefill",
    "simulate_serving",
    "step_latency",
]
