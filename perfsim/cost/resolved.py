"""The front door's resolution, remembered: a runtime (id, path, profile or None), a hardware
profile and an explicit Execution become the device and Execution a prediction is priced under
and the runtime's prefill chunk with the clause naming it (perfsim.cost.runtime), once per
(runtime profile, hardware profile, execution) instead of once per call.

Scalar calls resolve the same deployment thousands of times; resolving builds Executions
(validated on construction) and a device view per call. Entries are keyed like the step plans
(perfsim.cost.plan): by identity of the frozen profiles, checked through weak references, and by
value of the Execution; a runtime named by id or path is loaded first (the catalogue re-reads a
file that changed), so an edited runtime is a different profile and resolves afresh.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

from perfsim.cost.runtime import (
    NO_RUNTIME,
    RuntimeLike,
    chunk_assumption,
    load_runtime_like,
    prefill_chunk_tokens,
    resolve_deployment,
)
from perfsim.io.load import load_runtime
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.runtime import RuntimeProfile

#: Deployments remembered (least recently used dropped first).
MAX_DEPLOYMENTS = 256


@dataclass(frozen=True)
class Deployment:
    """What one prediction runs under: the device view, the resolved Execution, and the runtime's
    prefill chunk (None: whole prompts) with its memory-sentence clause (None without a runtime)."""

    hw: HardwareProfile
    execution: Execution
    chunk: int | None
    assumed: str | None


def _resolve(profile, hw: HardwareProfile, execution: Execution | None) -> Deployment:
    device, resolved = resolve_deployment(profile, hw, execution)
    if profile is None:
        return Deployment(device, resolved, None, None)
    chunk = prefill_chunk_tokens(profile, hw)
    return Deployment(device, resolved, chunk, chunk_assumption(profile, hw, chunk))


def _refers_to(ref: weakref.ref | None, profile: RuntimeProfile | None) -> bool:
    return ref is None if profile is None else ref is not None and ref() is profile


class DeploymentCache:
    """Least-recently-used deployments keyed by (runtime profile object, hardware object,
    execution value); a recycled object id never returns another profile's entry."""

    def __init__(self, size: int = MAX_DEPLOYMENTS):
        self.size = size
        self._entries: OrderedDict[tuple, tuple[weakref.ref | None, weakref.ref, Deployment]] = OrderedDict()

    def get(self, runtime: RuntimeLike, hw: HardwareProfile, execution: Execution | None) -> Deployment:
        if isinstance(runtime, str) and runtime != NO_RUNTIME and runtime.strip().lower() != NO_RUNTIME:
            profile: RuntimeProfile | None = load_runtime(runtime)  # an id or path (the common case)
        else:
            profile = load_runtime_like(runtime)
        if not isinstance(hw, HardwareProfile) or (execution is not None
                                                   and type(execution) is not Execution):
            return _resolve(profile, hw, execution)  # resolve_deployment's own checks and messages
        key = (id(profile), id(hw), execution)
        try:
            hit = self._entries.get(key)
        except TypeError:  # an unhashable field value: resolved afresh (its checks will say why)
            return _resolve(profile, hw, execution)
        if hit is not None and hit[1]() is hw and _refers_to(hit[0], profile):
            self._entries.move_to_end(key)
            return hit[2]
        found = _resolve(profile, hw, execution)
        self._entries[key] = (None if profile is None else weakref.ref(profile), weakref.ref(hw), found)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return found

    def clear(self) -> None:
        self._entries.clear()


#: The process's deployments (pure values derived from frozen inputs, like the step plans).
DEPLOYMENTS = DeploymentCache()


def deployment(runtime: RuntimeLike, hw: HardwareProfile, execution: Execution | None = None) -> Deployment:
    """The remembered `resolve_deployment(runtime, hw, execution)` with the runtime's prefill chunk."""
    return DEPLOYMENTS.get(runtime, hw, execution)
