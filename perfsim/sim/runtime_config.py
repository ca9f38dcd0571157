"""A runtime's scheduler defaults as the simulators' EngineConfig (see perfsim.cost.runtime for the
precedence rule: fields the caller sets to non-default values win, the rest come from the runtime)."""

from __future__ import annotations

from dataclasses import fields, replace

from perfsim.cost.runtime import RuntimeLike, load_runtime_like, resolve_deployment
from perfsim.sim.config import EngineConfig
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.runtime import RuntimeProfile


def engine_config(runtime: RuntimeProfile | None, hw: HardwareProfile,
                  engine: EngineConfig | None = None) -> EngineConfig:
    """`engine` (or the default EngineConfig) with the fields it leaves at their defaults taken from
    the runtime's scheduler on `hw`; `engine` unchanged without a runtime."""
    if runtime is None:
        return engine or EngineConfig()
    on_device = runtime.on(hw.arch)
    s, per_request = on_device.scheduler, on_device.host.per_request
    defaults = EngineConfig(max_num_seqs=s.max_num_seqs, max_batched_tokens=s.max_batched_tokens,
                            chunked_prefill=s.chunked_prefill, block_size=s.block_size,
                            gpu_memory_utilization=s.gpu_memory_utilization,
                            kv_cache_free_fraction=s.kv_cache_free_fraction, scheduler=s.policy,
                            api_server_s=per_request.value_s if per_request is not None else None)
    if engine is None:
        return defaults
    base = EngineConfig()
    return replace(defaults, **{f.name: getattr(engine, f.name) for f in fields(engine)
                                if getattr(engine, f.name) != getattr(base, f.name)})


def resolve_serving(runtime: RuntimeLike, hw: HardwareProfile, execution: Execution | None,
                    engine: EngineConfig | None) -> tuple[HardwareProfile, Execution, EngineConfig]:
    """The (device with the runtime's kernel calibration, Execution, EngineConfig) a simulation
    runs under, resolved once at its front door."""
    profile = load_runtime_like(runtime)
    return (*resolve_deployment(profile, hw, execution), engine_config(profile, hw, engine))
