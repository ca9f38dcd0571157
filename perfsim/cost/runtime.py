"""The `runtime=` argument of the public functions, resolved at the front door.

`runtime` is a bundled id (`perfsim list runtimes`), a YAML path, a RuntimeProfile, or None. The
public functions default to DEFAULT_RUNTIME (vLLM), because a prediction without a serving stack
is a lower bound no user deploys. None means perfsim's runtime-free behaviour (every host cost 0,
CUDA graphs, the hardware profile's default attention kernel, whole-prompt prefill in
`memory()`), bit for bit: kernel physics alone.

Precedence, one rule everywhere: an explicit `execution=` (or `engine=`) wins for every field it
sets to something other than the field's default; the fields it leaves at their defaults come from
the runtime. (So `Execution(cuda_graphs=True)` cannot force graphs on an eager runtime, because
True is the default: use a runtime with `base:` and changed fields for that.)
"""

from __future__ import annotations

import os

from perfsim.errors import PerfsimInputError
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.runtime import RuntimeProfile

RuntimeLike = str | os.PathLike | RuntimeProfile | None

#: The runtime every public function and CLI command assumes unless told otherwise. `runtime=None`
#: (CLI `--runtime none`) prices kernel physics alone: no host costs, CUDA graphs, the hardware
#: profile's default attention kernel, whole-prompt prefill in memory().
DEFAULT_RUNTIME = "vllm"

_GIB = 1 << 30


#: The id that names "no runtime" where only text can be given (CLI, YAML space files, dashboard).
NO_RUNTIME = "none"


def load_runtime_like(runtime: RuntimeLike) -> RuntimeProfile | None:
    """A RuntimeProfile (or None: kernel physics alone) from an id, a path, a profile or `none`."""
    if runtime is None or isinstance(runtime, RuntimeProfile):
        return runtime
    if isinstance(runtime, str) and runtime.strip().lower() == NO_RUNTIME:
        return None
    if not isinstance(runtime, str | os.PathLike):
        raise PerfsimInputError(f"runtime must be a runtime id, a YAML path or a RuntimeProfile "
                                f"(got {type(runtime).__name__}).")
    try:
        from perfsim.io.load import load_runtime
    except ImportError:
        raise PerfsimInputError(f"runtime {str(runtime)!r}: this perfsim cannot load runtime files "
                                f"yet; pass a perfsim.spec.runtime.RuntimeProfile.") from None
    return load_runtime(runtime)


def resolve_execution(runtime: RuntimeLike, hw: HardwareProfile,
                      execution: Execution | None = None) -> Execution:
    """The Execution a prediction runs under: `execution` as given (or the default) without a
    runtime; with one, the runtime on `hw` with `execution`'s non-default fields on top."""
    if execution is not None and not isinstance(execution, Execution):
        raise PerfsimInputError(f"execution must be a perfsim.spec.deployment.Execution, e.g. "
                                f"Execution(tensor_parallel=2) (got {execution!r}).")
    profile = load_runtime_like(runtime)
    explicit = execution or Execution()
    if profile is None:
        return explicit
    resolved = Execution.of(profile, hw, tensor_parallel=explicit.tensor_parallel)
    merged = explicit.filled_from(resolved)
    merged.check_kernels(hw)
    return merged


def resolve_deployment(runtime: RuntimeLike, hw: HardwareProfile,
                       execution: Execution | None = None) -> tuple[HardwareProfile, Execution]:
    """(the device priced with the runtime's kernel calibration when its profile has one (a `base:`
    runtime's is its base's), the resolved Execution): what every front door prices under."""
    resolved = resolve_execution(runtime, hw, execution)
    return hw.for_runtime(resolved.calibration_id), resolved


def vllm_batch_defaults(hw: HardwareProfile) -> tuple[int, int]:
    """(max_num_seqs, max_num_batched_tokens) vLLM picks for a device (vllm/engine/arg_utils.py,
    EngineArgs.get_batch_defaults, API server: 1024 and 8192 on GPUs with >= 70 GiB that are not
    A100s, else 256 and 2048)."""
    big = hw.memory.capacity_bytes >= 70 * _GIB and "a100" not in hw.id.lower()
    return (1024, 8192) if big else (256, 2048)


def max_running_seqs(runtime: RuntimeProfile, hw: HardwareProfile) -> int:
    """Most sequences the runtime's scheduler runs at once on `hw` (max_num_seqs; vLLM's per-device
    rule when left open, as EngineConfig.resolved does): no engine batches beyond it."""
    seqs = runtime.on(hw.arch).scheduler.max_num_seqs
    return vllm_batch_defaults(hw)[0] if seqs is None else seqs


def prefill_chunk_tokens(runtime: RuntimeProfile, hw: HardwareProfile) -> int | None:
    """Tokens per prefill step the runtime runs on `hw`: its token budget when it chunks prompts
    (vLLM's per-device rule when the budget is left open); None when it prefills whole prompts."""
    scheduler = runtime.on(hw.arch).scheduler
    if not scheduler.chunked_prefill or scheduler.policy == "prefill_first":
        return None
    if scheduler.max_batched_tokens is not None:
        return scheduler.max_batched_tokens
    return vllm_batch_defaults(hw)[1]


def chunk_assumption(runtime: RuntimeProfile, hw: HardwareProfile, chunk: int | None) -> str:
    """The clause a memory sentence adds to name the prefill it assumed."""
    if chunk is None:
        return f"whole-prompt prefill as {runtime.id} runs it on {hw.id}"
    budget = runtime.on(hw.arch).scheduler.max_batched_tokens
    why = "its token budget" if budget is not None else "its default token budget for this device"
    return f"prefill in chunks of {chunk} tokens ({why} under {runtime.id} on {hw.id})"
