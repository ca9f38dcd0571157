"""Serving-engine settings (vLLM-style defaults per device; TensorRT-LLM's benchmark recipe), checked
at construction so a bad value is one sentence before any simulation starts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from perfsim.checks import count, non_negative, positive
from perfsim.cost.runtime import vllm_batch_defaults
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_BATCHED_TOKENS, MAX_HOST_COST_S, MAX_SEQS, MAX_SIZE
from perfsim.sim.scheduler import registered_schedulers
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


@dataclass(frozen=True)
class EngineConfig:
    """Serving-engine settings. Fields left None take vLLM's defaults for the device
    (vllm/engine/arg_utils.py, EngineArgs.get_batch_defaults, API server: 8192 batched tokens and
    1024 sequences on GPUs with >= 70 GiB that are not A100s, else 2048 and 256; CacheConfig:
    16-token blocks, 0.9 of device memory)."""

    max_num_seqs: int | None = None
    max_batched_tokens: int | None = None
    chunked_prefill: bool = True
    block_size: int = 16
    gpu_memory_utilization: float = 0.9
    #: TensorRT-LLM's budget instead (kv_cache_free_gpu_mem_fraction): the KV pool is this share of
    #: what weights, activations and the runtime leave free; gpu_memory_utilization is then unused.
    kv_cache_free_fraction: float | None = None
    scheduler: str = "vllm"
    #: Engine CPU time per iteration that is not overlapped with the GPU (scheduling, input
    #: preparation, detokenisation). vLLM V1 overlaps most of it; older engines do not.
    step_overhead_s: float = 0.0
    max_model_len: int | None = None
    #: API-server host time per request before the engine sees it (HTTP, chat template, tokenising,
    #: IPC to the engine core): each request reaches the engine this long after it arrives (sim.frontend);
    #: None: the runtime's host.per_request (none without one); 0 turns a runtime's cost off.
    api_server_s: float | None = None

    def __post_init__(self) -> None:
        """Types and ranges at construction (limits in perfsim.io.limits); model-dependent limits
        (max_model_len against the model's window) are checked when resolved against a model."""
        for name, maximum in (("max_num_seqs", MAX_SEQS), ("max_batched_tokens", MAX_BATCHED_TOKENS),
                              ("block_size", MAX_SIZE), ("max_model_len", MAX_SIZE)):
            value = getattr(self, name)
            if value is not None:
                count(f"engine: {name}", value, maximum)
        positive("engine: gpu_memory_utilization", self.gpu_memory_utilization, 1.0)
        if self.kv_cache_free_fraction is not None:
            positive("engine: kv_cache_free_fraction", self.kv_cache_free_fraction, 1.0)
        non_negative("engine: step_overhead_s (seconds)", self.step_overhead_s, MAX_HOST_COST_S)
        if self.api_server_s is not None:
            non_negative("engine: api_server_s (seconds)", self.api_server_s, MAX_HOST_COST_S)

    @classmethod
    def tensorrt_llm(cls, **overrides) -> EngineConfig:
        """TensorRT-LLM as its published throughput benchmark runs it (trtllm-bench, perf-overview
        of v0.17): GUARANTEED_NO_EVICT, KV pool 0.95 of free memory, 8192 tokens and 4096 sequences
        per iteration, chunked context. Checked against that table by benchmarks/fidelity_trtllm.py."""
        return cls(**{"scheduler": "guaranteed_no_evict", "kv_cache_free_fraction": 0.95,
                      "max_num_seqs": 4096, "max_batched_tokens": 8192, **overrides})

    @property
    def whole_prompts(self) -> bool:
        """Prompts are prefilled in one iteration (no chunking, or a prefill-first scheduler)."""
        return not self.chunked_prefill or self.scheduler == "prefill_first"

    def resolved(self, model: ModelSpec, hw: HardwareProfile) -> EngineConfig:
        default_seqs, default_tokens = vllm_batch_defaults(hw)

        def pick(value, default):
            return default if value is None else value

        max_len = pick(self.max_model_len, model.max_context_len)
        tokens = pick(self.max_batched_tokens, max_len if self.whole_prompts else default_tokens)
        cfg = replace(self, max_num_seqs=pick(self.max_num_seqs, default_seqs),
                      max_batched_tokens=tokens, max_model_len=max_len)
        cfg._validate(model)
        return cfg

    def _validate(self, model: ModelSpec) -> None:
        """What depends on the model or the registries; types and ranges were checked at
        construction (__post_init__, which replace() in resolved() runs again)."""
        assert self.max_model_len is not None  # filled in by resolved()
        checks = [
            (1 <= self.max_model_len <= model.max_context_len,
             f"max_model_len must be in 1..{model.max_context_len} for {model.id} "
             f"(got {self.max_model_len})"),
            (self.scheduler in registered_schedulers(),
             f"unknown scheduler {self.scheduler!r}; allowed: {', '.join(sorted(registered_schedulers()))}"),
        ]
        for ok, message in checks:
            if not ok:
                raise PerfsimInputError(f"engine: {message}.")
