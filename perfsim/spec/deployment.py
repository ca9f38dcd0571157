"""How a model is run, apart from what it is (ModelSpec) and where it runs (HardwareProfile):
tensor parallelism, launch mode, kernel implementations and host costs of the serving stack, as a
runtime (perfsim.spec.runtime) resolves them on one device."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from perfsim.errors import PerfsimInputError

if TYPE_CHECKING:
    from perfsim.spec.attention_impls import Phase
    from perfsim.spec.hardware import HardwareProfile
    from perfsim.spec.runtime import RuntimeProfile


@dataclass(frozen=True)
class Execution:
    """How the model is run on one device: tensor parallelism, launch mode, the attention kernel
    implementation per phase and host costs; not part of model or hardware. The defaults are
    perfsim's runtime-free behaviour; `Execution.of(runtime, hw)` resolves a runtime."""

    tensor_parallel: int = 1
    cuda_graphs: bool = True
    #: Engine work per step outside kernels (scheduling, sampling sync); engine-specific.
    host_overhead_per_step_s: float = 0.0
    #: Host time to enqueue one kernel in eager mode; None uses the hardware profile's raw launch
    #: cost. Python-heavy frameworks (plain HF eager) spend far more per kernel than the launch.
    host_per_kernel_s: float | None = None
    #: Attention kernel implementation for prefill / decode (e.g. "fa3"); None: the hardware
    #: profile's default implementation.
    attention_prefill_impl: str | None = None
    attention_decode_impl: str | None = None
    #: Engine work per step per running sequence (decode and prefill alike): input preparation,
    #: sampling, detokenisation.
    host_per_seq_per_step_s: float = 0.0
    #: The runtime this execution was resolved from (for messages), if any.
    runtime_id: str | None = None

    def __post_init__(self) -> None:
        if self.tensor_parallel < 1:
            raise PerfsimInputError(f"tensor_parallel must be >= 1 (got {self.tensor_parallel}).")
        if self.host_overhead_per_step_s < 0:
            raise PerfsimInputError("host_overhead_per_step_s must be >= 0.")
        if self.host_per_kernel_s is not None and self.host_per_kernel_s < 0:
            raise PerfsimInputError("host_per_kernel_s must be >= 0.")
        if self.host_per_seq_per_step_s < 0:
            raise PerfsimInputError("host_per_seq_per_step_s must be >= 0.")

    @classmethod
    def of(cls, runtime: RuntimeProfile, hw: HardwareProfile, tensor_parallel: int = 1,
           **overrides) -> Execution:
        """`runtime` as it runs on `hw` (its `devices:` override for hw.arch applied), with
        `overrides` (Execution fields) on top. An attention implementation the hardware profile
        has no figures for is one sentence naming the profile, the implementation and the runtime; so
        is a device generation the runtime does not support (checked first)."""
        if not runtime.runs_on(hw.arch):
            raise PerfsimInputError(
                f"runtime '{runtime.id}' does not run on {hw.id} (arch {hw.arch}); it supports "
                f"{', '.join(runtime.archs or ())}.")
        r = runtime.on(hw.arch)

        def cost(entry) -> float | None:
            return None if entry is None else entry.value_s

        execution = cls(
            tensor_parallel=tensor_parallel,
            cuda_graphs=r.cuda_graphs.enabled,
            host_overhead_per_step_s=cost(r.host.per_step) or 0.0,
            host_per_kernel_s=cost(r.host.per_kernel_eager),
            attention_prefill_impl=r.kernels.attention_prefill,
            attention_decode_impl=r.kernels.attention_decode,
            host_per_seq_per_step_s=cost(r.host.per_seq_per_step) or 0.0,
            runtime_id=runtime.id,
        )
        execution = replace(execution, **overrides)
        execution.check_kernels(hw)
        return execution

    def filled_from(self, resolved: Execution) -> Execution:
        """This execution with every field it leaves at its default taken from `resolved` (a
        runtime's execution): fields set explicitly here win."""
        defaults = Execution()
        return replace(resolved, **{f.name: getattr(self, f.name) for f in fields(self)
                                    if getattr(self, f.name) != getattr(defaults, f.name)})

    def check_kernels(self, hw: HardwareProfile) -> None:
        """Raise one sentence if `hw` has no figures for the chosen attention implementations."""
        attention = hw.efficiency_in_use.attention
        phases: tuple[tuple[Phase, str | None], ...] = (
            ("prefill", self.attention_prefill_impl), ("decode", self.attention_decode_impl))
        for phase, impl in phases:
            if impl is not None and not attention.has(impl, phase):
                who = f"runtime '{self.runtime_id}'" if self.runtime_id else "the execution"
                raise PerfsimInputError(
                    f"hardware profile '{hw.id}' has no {phase} attention figures for implementation "
                    f"'{impl}' that {who} uses (it lists {', '.join(attention.available)}); add them "
                    f"under efficiency.attention.implementations with a source, or choose another runtime.")
