"""Event-driven serving simulator (simpy): workloads, continuous batching, paged KV, replicas."""

from perfsim.sim.capacity import CapacityResult, max_rate_under_slo
from perfsim.sim.clients import ClosedLoop
from perfsim.sim.config import EngineConfig
from perfsim.sim.lengths import Empirical, Fixed, LengthDist, LogNormal, Uniform
from perfsim.sim.metrics import ServingResult
from perfsim.sim.scheduler import register_scheduler, registered_schedulers
from perfsim.sim.serving import register_router, registered_routers, simulate_serving
from perfsim.sim.workloads import (
    Batch,
    Gamma,
    Poisson,
    Trace,
    Workload,
    make_workload,
    register_workload,
    registered_workloads,
)

__all__ = [
    "Batch", "CapacityResult", "ClosedLoop", "Empirical", "EngineConfig", "Fixed", "Gamma", "LengthDist",
    "LogNormal", "Poisson", "ServingResult", "Trace", "Uniform", "Workload", "make_workload",
    "max_rate_under_slo", "register_router", "register_scheduler", "register_workload",
    "registered_routers", "registered_schedulers", "registered_workloads", "simulate_serving",
]
