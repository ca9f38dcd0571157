"""How a model is run, apart from what it is (ModelSpec) and where it runs (HardwareProfile):
tensor parallelism, launch mode and host costs of the serving stack."""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.errors import PerfsimInputError


@dataclass(frozen=True)
class Execution:
    """How the model is run: tensor parallelism and launch mode; not part of model or hardware."""

    tensor_parallel: int = 1
    cuda_graphs: bool = True
    #: Engine work per step outside kernels (scheduling, sampling sync); engine-specific.
    host_overhead_per_step_s: float = 0.0
    #: Host time to enqueue one kernel in eager mode; None uses the hardware profile's raw launch
    #: cost. Python-heavy frameworks (plain HF eager) spend far more per kernel than the launch.
    host_per_kernel_s: float | None = None

    def __post_init__(self) -> None:
        if self.tensor_parallel < 1:
            raise PerfsimInputError(f"tensor_parallel must be >= 1 (got {self.tensor_parallel}).")
        if self.host_overhead_per_step_s < 0:
            raise PerfsimInputError("host_overhead_per_step_s must be >= 0.")
        if self.host_per_kernel_s is not None and self.host_per_kernel_s < 0:
            raise PerfsimInputError("host_per_kernel_s must be >= 0.")
