"""How a model is run, apart from what it is (ModelSpec) and where it runs (HardwareProfile):
tensor and expert parallelism, launch mode, kernel implementations and host costs of the serving stack, as a
runtime (perfsim.spec.runtime) resolves them on one device."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from numbers import Integral, Real
from typing import TYPE_CHECKING

from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_BATCHED_TOKENS, MAX_HOST_COST_S, MAX_TENSOR_PARALLEL

if TYPE_CHECKING:
    from perfsim.spec.attention_impls import Phase
    from perfsim.spec.hardware import HardwareProfile
    from perfsim.spec.runtime import RuntimeProfile


@dataclass(frozen=True)
class Execution:
    """How the model is run on one device: tensor and expert parallelism, launch mode, the attention kernel
    implementation per phase and host costs; not part of model or hardware. The defaults are
    perfsim's runtime-free behaviour; `Execution.of(runtime, hw)` resolves a runtime."""

    tensor_parallel: int = 1
    cuda_graphs: bool = True
    #: GPUs, of the `tensor_parallel` ones, over which MoE routed experts are placed whole:
    #: num_experts / EP experts per group of TP / EP GPUs, which shard only their width. EP = TP is
    #: vLLM's --enable-expert-parallel and SGLang's --ep-size at data parallelism 1; 1 < EP < TP is
    #: TensorRT-LLM's moe_expert_parallel_size with moe_tensor_parallel_size = TP / EP. The
    #: deployment's GPU count stays `tensor_parallel` (attention and dense layers are TP-sharded, so
    #: every GPU holds every token and the combine is the TP all-reduce). 1: experts TP-sharded.
    expert_parallel: int = 1
    #: Routed token copies on the busiest expert-parallel rank over the mean, beyond the finite-
    #: batch randomness of uniform routing that the MoE op prices itself: 1.0 is routing uniform in
    #: expectation (what expert-parallel load balancers aim for); at most expert_parallel.
    expert_load_imbalance: float = 1.0
    #: Under expert parallelism the fused-MoE kernel walks every token's routed copies with the
    #: other ranks' experts masked (a runtime's `kernels.moe_expert_parallel: every_copy`, vLLM's
    #: Triton path) instead of only its own copies.
    moe_ep_every_copy: bool = False
    #: The engine's tensor-parallel all-reduce may use a custom one-/two-shot kernel where it is
    #: faster (a runtime's `kernels.allreduce: one_shot_custom`; vLLM, SGLang, TensorRT-LLM); False:
    #: NCCL's ring alone (`nccl_ring`). Custom kernels need NVLink or at most two PCIe GPUs.
    custom_allreduce: bool = True
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
    #: Whose measured-kernel calibration prices the kernels (RuntimeProfile.calibration_id).
    calibration_id: str | None = None
    #: Host work per speculative draft step when the drafter runs eagerly (proposer bookkeeping:
    #: input preparation, top-k, tree/mask building). Under CUDA graphs the k draft steps replay
    #: as one captured graph (SGLang's draft graph runner, vLLM's proposer graphs), so it is 0 there.
    host_per_draft_step_s: float = 0.0
    #: Host work per drafted token (sampling the draft distribution, bookkeeping per candidate).
    host_per_drafted_token_s: float = 0.0
    #: Largest step that replays a CUDA graph (a runtime's `cuda_graphs.max_capture_size`), in
    #: `cuda_graph_unit` ("tokens" or "seqs"); a bigger step runs its kernels without one. None:
    #: every step replays (perfsim's runtime-free behaviour); 0: none does.
    cuda_graph_max_size: int | None = None
    cuda_graph_unit: str = "tokens"
    #: Whether steps carrying prefill tokens may replay a graph (False: they never do).
    cuda_graph_prefill: bool = True
    #: Host time to enqueue one kernel of a step that runs without a graph while graphs are on
    #: (vLLM: its torch.compile'd pieces); None: host_per_kernel_s.
    host_per_kernel_ungraphed_s: float | None = None

    def __post_init__(self) -> None:
        """Types, finiteness and ranges, once, so no NaN, bool or string reaches the cost model."""
        tp = self.tensor_parallel
        if isinstance(tp, bool) or not isinstance(tp, Integral) or not 1 <= tp <= MAX_TENSOR_PARALLEL:
            raise PerfsimInputError(f"Execution.tensor_parallel must be an integer from 1 to "
                                    f"{MAX_TENSOR_PARALLEL} (got {tp!r}).")
        self._check_expert_parallel()
        self._check_graph_limit()
        for flag in ("cuda_graphs", "moe_ep_every_copy", "custom_allreduce", "cuda_graph_prefill"):
            if not isinstance(getattr(self, flag), bool):
                raise PerfsimInputError(f"Execution.{flag} must be True or False "
                                        f"(got {getattr(self, flag)!r}).")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("host_") and value is not None and not (
                    isinstance(value, int | float) and not isinstance(value, bool)
                    and 0 <= value <= MAX_HOST_COST_S):
                raise PerfsimInputError(f"Execution.{f.name} must be a number of seconds from 0 to "
                                        f"{MAX_HOST_COST_S:g} (got {value!r}).")
            if f.name.endswith("_impl") or f.name in ("runtime_id", "calibration_id"):
                if value is not None and not (isinstance(value, str) and value):
                    raise PerfsimInputError(f"Execution.{f.name} must be a name or None (got {value!r}).")

    def _check_graph_limit(self) -> None:
        size, unit = self.cuda_graph_max_size, self.cuda_graph_unit
        if size is not None and (isinstance(size, bool) or not isinstance(size, Integral)
                                 or not 0 <= size <= MAX_BATCHED_TOKENS):
            raise PerfsimInputError(f"Execution.cuda_graph_max_size must be None or an integer from 0 to "
                                    f"{MAX_BATCHED_TOKENS} (got {size!r}).")
        if unit not in ("tokens", "seqs"):
            raise PerfsimInputError(f"Execution.cuda_graph_unit must be 'tokens' or 'seqs' (got {unit!r}).")

    def _check_expert_parallel(self) -> None:
        tp, ep, skew = self.tensor_parallel, self.expert_parallel, self.expert_load_imbalance
        if isinstance(ep, bool) or not isinstance(ep, Integral) or not 1 <= ep <= tp or tp % ep:
            divisors = [d for d in range(1, tp + 1) if tp % d == 0]
            shown = ", ".join(map(str, divisors if len(divisors) <= 12 else [*divisors[:6], "...", tp]))
            raise PerfsimInputError(
                f"Execution.expert_parallel must be an integer that divides tensor_parallel ({tp}): one "
                f"of {shown}, since experts are placed on the deployment's {tp} GPU(s) (got {ep!r}).")
        if isinstance(skew, bool) or not isinstance(skew, Real) or not 1.0 <= skew <= ep:
            raise PerfsimInputError(
                f"Execution.expert_load_imbalance must be a number from 1 to expert_parallel ({ep}): "
                f"the busiest rank's routed tokens over the mean (got {skew!r}).")

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
            calibration_id=runtime.calibration_id,
            host_per_draft_step_s=cost(r.host.per_draft_step) or 0.0,
            host_per_drafted_token_s=cost(r.host.per_drafted_token) or 0.0,
            moe_ep_every_copy=r.kernels.moe_expert_parallel == "every_copy",
            custom_allreduce=r.kernels.allreduce == "one_shot_custom",
            cuda_graph_max_size=r.cuda_graphs.max_capture_size,
            cuda_graph_unit=r.cuda_graphs.capture_unit,
            cuda_graph_prefill=r.cuda_graphs.prefill,
            host_per_kernel_ungraphed_s=cost(r.host.per_kernel_ungraphed),
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
