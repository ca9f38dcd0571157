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
from perfsim.vectorized import evaluate_grid

__version__ = "0.1.0"

__all__ = [
    "Execution",
    "HardwareProfile",
    "MemoryReport",
    "ModelSpec",
    "PerfsimInputError",
    "RequestResult",
    "StepBatch",
    "StepResult",
    "decode_step",
    "evaluate_grid",
    "evaluate_step",
    "generate",
    "kernel_time",
    "load_hardware",
    "load_model",
    "memory",
    "model_params",
    "ops",
    "prefill",
    "step_latency",
]
