"""Runtime profiles: what turns "an H100" into "vLLM on an H100".

A runtime (vLLM, SGLang, TensorRT-LLM, HF transformers, llama.cpp, MLC-LLM, ...) decides which
kernel implementation runs each op family, whether CUDA graphs replay the step, how the
scheduler admits work and sizes the KV pool, and what the host spends per step, per kernel, per
draft step and per request. None of that belongs to the model or the device, so it is the third
input of every prediction. Every number carries a `source`; a fitted host cost names the script
and data that fitted it (`fitted_by`).

Kernel choices and scheduler defaults may differ per device generation (`devices:` overrides,
keyed by `HardwareProfile.arch`: ampere, ada, hopper, blackwell, x86-64).
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator

from perfsim.io.limits import MAX_BATCHED_TOKENS, MAX_HOST_COST_S, MAX_SEQS, MAX_SIZE
from perfsim.spec.base import _Strict

Seconds = Annotated[float, Field(ge=0, le=MAX_HOST_COST_S, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Seqs = Annotated[int, Field(gt=0, le=MAX_SEQS)]
Tokens = Annotated[int, Field(gt=0, le=MAX_BATCHED_TOKENS)]
BlockTokens = Annotated[int, Field(gt=0, le=MAX_SIZE)]
CaptureSize = Annotated[int, Field(gt=0, le=MAX_BATCHED_TOKENS)]

AttentionImpl = Literal["fa2", "fa3", "flashinfer", "trtllm-fmha", "sdpa", "llama.cpp", "tvm"]
GemmImpl = Literal["cublas", "cutlass", "llama.cpp", "tvm"]
#: A device generation (`HardwareProfile.arch` of the bundled hardware profiles).
Generation = Literal["ampere", "ada", "hopper", "blackwell", "x86-64"]


class Source(_Strict):
    url: str
    note: str = ""


class HostCost(_Strict):
    """One host-side cost in seconds, with where it comes from. `fitted_by` names the committed
    script that fitted it (its data and leave-one-out error are in that script's report)."""

    value_s: Seconds
    source: str = Field(min_length=1)
    fitted_by: str | None = None


class Kernels(_Strict):
    """Implementation per op family; the hardware profile holds the efficiency of each."""

    attention_prefill: AttentionImpl = "fa2"
    attention_decode: AttentionImpl = "fa2"
    gemm: GemmImpl = "cublas"
    #: FP8/FP4 activations are quantised on the fly before each GEMM (the runtime's kernel
    #: includes that pass) rather than arriving pre-quantised from the previous kernel.
    dynamic_activation_quant: bool = True
    #: All-reduce algorithm under tensor parallelism: a one-shot custom kernel for small
    #: messages (vLLM, TensorRT-LLM) or NCCL's ring throughout.
    allreduce: Literal["one_shot_custom", "nccl_ring"] = "nccl_ring"
    #: The fused-MoE kernel under expert parallelism (perfsim.ops.MoE.every_copy): it touches only
    #: the routed copies of its own experts, or walks every token's copies with the other ranks'
    #: experts masked (the Triton fused MoE given an expert map).
    moe_expert_parallel: Literal["local_copies", "every_copy"] = "local_copies"


class CudaGraphs(_Strict):
    """Which steps replay a captured graph. A step bigger than the largest capture size, in the
    unit the engine compares (`capture_unit`), runs its kernels without one and pays
    `host.per_kernel_ungraphed` per kernel (perfsim.cost.launch.LaunchModel.at)."""

    enabled: bool = True
    #: Largest captured size, in `capture_unit`.
    max_capture_size: CaptureSize = 512
    #: What the engine compares with it: the step's tokens (vLLM V1 pads a step's scheduled
    #: tokens, speculative verify slots and prefill chunks included; llama.cpp's ubatch) or its
    #: sequences (SGLang's and TensorRT-LLM's decode batch size).
    capture_unit: Literal["tokens", "seqs"] = "tokens"
    #: Whether a step carrying prefill tokens may replay a graph (vLLM's piecewise graphs) or
    #: always runs without one (SGLang's extend batches, TensorRT-LLM's context phase).
    prefill: bool = True


class Scheduler(_Strict):
    """Engine defaults (perfsim.sim.EngineConfig takes them unless the user overrides)."""

    policy: str = "vllm"  # a registered scheduler name (`perfsim list schedulers`)
    max_num_seqs: Seqs | None = None  # None: the runtime's own per-device rule (vLLM)
    max_batched_tokens: Tokens | None = None
    chunked_prefill: bool = True
    block_size: BlockTokens = 16
    gpu_memory_utilization: Fraction = 0.9
    #: TensorRT-LLM sizes the KV pool as this share of the memory left free instead.
    kv_cache_free_fraction: Fraction | None = None


class HostCosts(_Strict):
    """Host work that kernel physics does not contain. A per-step cost is paid once per engine
    iteration; `per_seq_per_step` scales with the running sequences (input preparation, sampling,
    detokenisation); `per_kernel_eager` is the enqueue cost of one kernel without CUDA graphs
    (None: the hardware profile's raw launch cost); `per_kernel_ungraphed` is that cost in a step
    above the largest capture size while graphs are on (vLLM runs its torch.compile'd pieces there,
    not the eager modules; None: `per_kernel_eager`); draft costs are per speculative draft step
    and per drafted token; `per_request` is API-server work (HTTP, tokenising, IPC) per request."""

    per_step: HostCost | None = None
    per_seq_per_step: HostCost | None = None
    per_kernel_eager: HostCost | None = None
    per_kernel_ungraphed: HostCost | None = None
    per_draft_step: HostCost | None = None
    per_drafted_token: HostCost | None = None
    per_request: HostCost | None = None


class DeviceOverride(_Strict):
    """What a runtime does differently on one device generation."""

    kernels: Kernels | None = None
    cuda_graphs: CudaGraphs | None = None
    scheduler: Scheduler | None = None
    host: HostCosts | None = None


class RuntimeProfile(_Strict):
    schema_version: Literal[1] = 1
    id: str
    display_name: str
    version: str
    source: Source
    #: Device generations the runtime runs on (its documented hardware support); None: every one.
    archs: list[Generation] | None = None
    kernels: Kernels = Kernels()
    cuda_graphs: CudaGraphs = CudaGraphs()
    scheduler: Scheduler = Scheduler()
    host: HostCosts = HostCosts()
    devices: dict[str, DeviceOverride] = Field(default_factory=dict)
    #: The runtime whose measured-kernel calibration (a hardware profile's `calibration.runtimes`)
    #: prices this one's kernels; None: its own id. A `base:` file runs its base's kernels, so it
    #: inherits the base's unless it names another.
    calibration: str | None = None

    @field_validator("devices")
    @classmethod
    def _known_generations(cls, devices: dict[str, DeviceOverride]) -> dict[str, DeviceOverride]:
        """A field validator (not a model one) so that the error names the field `devices`."""
        unknown = sorted(set(devices) - set(GENERATIONS))
        if unknown:
            raise ValueError(f"unknown generation(s) {unknown}; allowed: {', '.join(GENERATIONS)}")
        return devices

    @property
    def calibration_id(self) -> str:
        return self.calibration or self.id

    def runs_on(self, generation: str) -> bool:
        """Whether the runtime supports this device generation (`archs`; None: every one)."""
        return self.archs is None or generation in self.archs

    def on(self, generation: str) -> RuntimeProfile:
        """This runtime as it runs on one device generation (its override applied, if any). An
        override changes the fields it sets, so a copy of a runtime is read back from
        `model_dump(exclude_unset=True)`: a full dump would set every override field."""
        override = self.devices.get(generation)
        if override is None:
            return self
        changes = override.model_dump(exclude_unset=True)
        data = self.model_dump()
        for section, fields in changes.items():
            data[section] = {**data[section], **fields}
        data["devices"] = {}
        return RuntimeProfile.model_validate(data)


#: Device generations a runtime may override (the `arch` of the bundled hardware profiles).
GENERATIONS: tuple[str, ...] = get_args(Generation)
