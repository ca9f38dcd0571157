"""The validated what-if every page computes from (no Streamlit here, so it is testable alone)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeGuard

from perfsim.decoding import DecodingStrategy
from perfsim.sim import EngineConfig
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.spec.runtime import RuntimeProfile


@dataclass(frozen=True)
class Deployment:
    """How the model is served: the runtime (None: perfsim's runtime-free behaviour), tensor
    parallelism per replica, data-parallel replicas and the serving engine's knobs."""

    runtime: RuntimeProfile | None = None
    execution: Execution = field(default_factory=Execution)
    replicas: int = 1
    engine: EngineConfig = field(default_factory=EngineConfig)

    @property
    def gpus(self) -> int:
        """GPUs the deployment occupies: tensor-parallel group size x replicas."""
        return self.execution.tensor_parallel * self.replicas

    def describe(self) -> str:
        runtime = self.runtime.id if self.runtime else "runtime-free"
        tp, ep = self.execution.tensor_parallel, self.execution.expert_parallel
        extra = f" × {self.replicas} replicas = {self.gpus} GPUs" if self.replicas > 1 else ""
        return f"{runtime}, TP{tp}{f' EP{ep}' if ep > 1 else ''}{extra}"


@dataclass(frozen=True)
class Setup:
    """The validated what-if that every page computes from."""

    model: ModelSpec | None
    hardware: HardwareProfile | None
    batch: int
    prompt_len: int
    output_len: int
    decoding: DecodingStrategy | None
    deploy: Deployment = field(default_factory=Deployment)
    values: dict = field(default_factory=dict)  # URL-able widget values, for the download
    errors: dict = field(default_factory=dict)  # widget key -> sentence shown under it
    labels: dict = field(default_factory=dict)  # widget key -> its label, to name bad fields

    @property
    def ok(self) -> bool:
        """Every input valid and every object built: pages may compute."""
        return not self.errors and None not in (self.model, self.hardware, self.decoding)

    @property
    def runtime(self) -> RuntimeProfile | None:
        return self.deploy.runtime

    @property
    def execution(self) -> Execution:
        return self.deploy.execution

    @property
    def execution_arg(self) -> Execution | None:
        """What to pass as `execution=`: None for the default deployment, so the dashboard makes the
        very call a script makes (the library may treat an explicit default differently)."""
        return None if self.deploy.execution == Execution() else self.deploy.execution

    @cached_property
    def key(self) -> str:
        """Digest of the model, device and deployment: the cache key of every computation."""
        assert self.model is not None and self.hardware is not None  # only asked once `ok`
        runtime = self.runtime.model_dump_json() if self.runtime else ""
        text = (self.model.model_dump_json() + self.hardware.model_dump_json() + runtime
                + repr(self.deploy.execution) + repr(self.deploy.engine) + str(self.deploy.replicas))
        return hashlib.sha1(text.encode()).hexdigest()[:16]


class ReadySetup(Setup):
    """A Setup that is `ok`: model, hardware and decoding are all built. The type `is_ready`
    narrows a Setup to, so pages and `runs` need no None checks; never instantiated."""

    model: ModelSpec
    hardware: HardwareProfile
    decoding: DecodingStrategy


def is_ready(setup: Setup) -> TypeGuard[ReadySetup]:
    """`setup.ok`, telling the type checker that model, hardware and decoding are set."""
    return setup.ok
