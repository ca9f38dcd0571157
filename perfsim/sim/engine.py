"""One serving replica as a simpy process: schedule an iteration, price it, advance time, commit.

Each iteration's duration is the predictor's cost of the exact batch it runs (decodes plus prefill
chunks, see `costs.py`). Decoding strategies act inside the loop: every iteration samples the
tokens each sequence finalises (accepted drafts, diffusion tokens per step). Autoregressive
decode-only stretches, where nothing changes but contexts growing by one, are advanced as one
simpy timeout of many iterations; strategies that finalise a random number of tokens per
iteration draw a stretch's tokens up front and end it where the first request finishes. An
arrival interrupts a stretch at the end of the iteration in flight, exactly where a real engine
would pick the request up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import simpy

from perfsim.cost.runtime import vllm_batch_defaults
from perfsim.decoding import Autoregressive, DecodingStrategy
from perfsim.errors import PerfsimInputError
from perfsim.sim.costs import IterationCosts
from perfsim.sim.kvcache import KVCache
from perfsim.sim.metrics import Recorder
from perfsim.sim.requests import Request
from perfsim.sim.running import RunningSet
from perfsim.sim.scheduler import Queues, registered_schedulers
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

GIB = 1 << 30
#: Longest decode stretch advanced as one event (bounds the per-stretch arrays).
MAX_STRETCH = 4096
#: Most token draws (requests x iterations) sampled ahead for one stochastic stretch.
MAX_SAMPLED = 1 << 16


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
        assert (self.max_num_seqs is not None and self.max_batched_tokens is not None
                and self.max_model_len is not None)  # filled in by resolved()
        checks = [
            (self.max_num_seqs >= 1, f"max_num_seqs must be >= 1 (got {self.max_num_seqs})"),
            (self.max_batched_tokens >= 1,
             f"max_batched_tokens must be >= 1 (got {self.max_batched_tokens})"),
            (self.block_size >= 1, f"block_size must be >= 1 (got {self.block_size})"),
            (0 < self.gpu_memory_utilization <= 1,
             f"gpu_memory_utilization must be in (0, 1] (got {self.gpu_memory_utilization})"),
            (self.kv_cache_free_fraction is None or 0 < self.kv_cache_free_fraction <= 1,
             f"kv_cache_free_fraction must be in (0, 1] (got {self.kv_cache_free_fraction})"),
            (self.step_overhead_s >= 0, f"step_overhead_s must be >= 0 (got {self.step_overhead_s})"),
            (1 <= self.max_model_len <= model.max_context_len,
             f"max_model_len must be in 1..{model.max_context_len} for {model.id} "
             f"(got {self.max_model_len})"),
            (self.scheduler in registered_schedulers(),
             f"unknown scheduler {self.scheduler!r}; allowed: {', '.join(sorted(registered_schedulers()))}"),
        ]
        for ok, message in checks:
            if not ok:
                raise PerfsimInputError(f"engine: {message}.")


class Replica:
    """One model instance (tensor parallelism inside the execution) with its queues and KV pool."""

    def __init__(self, env: simpy.Environment, index: int, config: EngineConfig, kv: KVCache,
                 costs: IterationCosts, strategy: DecodingStrategy, recorder: Recorder,
                 rng: np.random.Generator):
        self.env, self.index, self.config, self.kv, self.costs = env, index, config, kv, costs
        self.strategy, self.recorder, self.rng = strategy, recorder, rng
        assert config.max_num_seqs is not None and config.max_batched_tokens is not None  # resolved
        self.running = RunningSet(config.max_num_seqs)
        self.queues = Queues(running=self.running, waiting=deque(), kv=kv, max_seqs=config.max_num_seqs,
                             max_tokens=config.max_batched_tokens, chunked_prefill=not config.whole_prompts,
                             query_tokens=costs.query_tokens)
        self.scheduler = registered_schedulers()[config.scheduler]()
        self.deterministic = isinstance(strategy, Autoregressive)
        self.outstanding = 0
        self._wake: simpy.Event | None = None
        self._stretching = False
        self.process = env.process(self._run())

    def submit(self, request: Request) -> None:
        request.replica = self.index
        self.queues.waiting.append(request)
        self.outstanding += 1
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()
        elif self._stretching:
            self._stretching = False
            self.process.interrupt()

    def _run(self):
        env, q, rs, overhead = self.env, self.queues, self.running, self.config.step_overhead_s
        while True:
            if not rs.n and not q.waiting:
                self._wake = env.event()
                yield self._wake
                self._wake = None
                continue
            plan = self.scheduler.schedule(q)
            k, batch = plan.decoding.size, plan.decodes
            if not batch and not plan.chunks:
                raise AssertionError("scheduler found nothing to run with requests queued")
            start = env.now
            context = int(rs.computed[:k] @ plan.decoding) / batch if batch else 0.0
            stretch, accepted = 1, None
            if batch == k and not plan.chunks and not plan.preempted:
                if self.deterministic:
                    stretch = self._reserve_stretch(k)
                else:
                    stretch, accepted = self._reserve_sampled_stretch(k)
            if stretch > 1:
                if accepted is None:
                    contexts = context + np.arange(stretch)
                else:
                    contexts = context + np.concatenate([[0.0], accepted[:, : stretch - 1].mean(axis=0)])
                durations = self.costs.decode_run(batch, contexts) + overhead
                ends = np.cumsum(durations)
                self._stretching = True
                done = stretch
                try:
                    yield env.timeout(ends[-1])
                except simpy.Interrupt:  # a request arrived: finish the iteration in flight
                    done = min(int(np.searchsorted(ends, env.now - start)) + 1, stretch)
                    yield env.timeout(max(ends[done - 1] - (env.now - start), 0.0))
                self._stretching = False
                tokens = np.full(k, done) if accepted is None else accepted[:, done - 1]
                trim = done < stretch or accepted is not None
                self._commit(plan, tokens, durations[:done], start, trim=trim)
            else:
                chunks = [(n, int(rs.computed[i])) for i, n in plan.chunks]
                duration = self.costs.mixed(batch, context, chunks) + overhead
                yield env.timeout(duration)
                tokens = plan.decoding.astype(np.int64)
                if not self.deterministic:
                    tokens[plan.decoding] = self.strategy.sample_tokens(self.rng, batch)
                self._commit(plan, tokens, np.array([duration]), start, trim=not self.deterministic)
            self.recorder.sample(env.now, self.index, rs.n, len(q.waiting), self.kv.used_fraction,
                                 batch * self.costs.query_tokens + sum(n for _, n in plan.chunks))

    def _reserve_stretch(self, k: int) -> int:
        """Iterations until the first of the k decoding requests finishes, limited by free KV
        blocks; reserves the blocks."""
        rs, kv = self.running, self.kv
        m = min(int((rs.output[:k] - rs.generated[:k]).min()), MAX_STRETCH)
        computed = rs.computed[:k]
        return self._grant(k, m, lambda n: kv.blocks_for_many(computed + n))

    def _reserve_sampled_stretch(self, k: int) -> tuple[int, np.ndarray | None]:
        """For strategies that finalise a random number of tokens per iteration: draw the tokens
        of the next iterations up front, run until the first request finishes or KV runs short,
        and reserve the blocks. Returns the iterations and each request's cumulative tokens."""
        rs, kv, q = self.running, self.kv, self.costs.query_tokens
        remaining = rs.output[:k] - rs.generated[:k]
        horizon = min(int(remaining.min()), MAX_STRETCH, max(2, MAX_SAMPLED // k))
        if horizon <= 1:
            return 1, None
        accepted = np.cumsum(self.strategy.sample_tokens(self.rng, k * horizon).reshape(k, horizon), axis=1)
        reached = accepted >= remaining[:, None]
        first = np.where(reached.any(axis=1), reached.argmax(axis=1), horizon - 1)
        computed = rs.computed[:k]
        # iteration n (1-based) writes its k+1 query slots after the tokens of the n-1 before it
        m = self._grant(k, int(first.min()) + 1,
                        lambda n: kv.blocks_for_many(computed + accepted[:, n - 2] + q))
        return m, accepted

    def _grant(self, k: int, m: int, blocks_at) -> int:
        """Shorten a stretch of m iterations until the KV blocks its last iteration needs
        (`blocks_at(n)` per request, n >= 2) are free, and reserve them. The scheduler already
        reserved the first iteration."""
        if m <= 1:
            return 1
        kv, held = self.kv, self.running.blocks[:k]

        def need(n: int) -> np.ndarray:
            return np.maximum(blocks_at(n) + kv.state_blocks - held, 0)

        if int(need(m).sum()) > kv.free_blocks:
            lo, hi = 1, m
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if int(need(mid).sum()) <= kv.free_blocks else (lo, mid)
            m = lo
        if m > 1:
            grow = need(m)
            kv.free_blocks -= int(grow.sum())
            held += grow
        return m

    def _commit(self, plan, tokens: np.ndarray, durations: np.ndarray, start: float, trim: bool) -> None:
        """Apply `tokens` per running position (zero where not decoding; summed over the
        iterations in `durations`) and the prefill chunks. `trim` gives back blocks reserved for
        tokens that were not kept (rejected drafts, a stretch cut short by an arrival)."""
        now, kv, rs = self.env.now, self.kv, self.running
        k, batch = plan.decoding.size, plan.decodes
        finished: list[int] = []
        for i, n in plan.chunks:
            rs.computed[i] += n
            if rs.computed[i] == rs.prompt[i] + rs.generated[i]:  # (re)filled: sample a token
                rs.generated[i] += 1
                rs.filling -= 1
                request = rs.requests[i]
                if request.first_token_s < 0:
                    request.first_token_s = now
                else:  # a refill after preemption: the gap since its last token is latency too
                    self.recorder.token_gaps(np.array([now - rs.last_token_s[i]]))
                rs.last_token_s[i] = now
                if rs.generated[i] >= rs.output[i]:
                    finished.append(i)
        if batch:
            output, generated, computed = rs.output[:k], rs.generated[:k], rs.computed[:k]
            tokens = np.minimum(tokens[:k], output - generated)  # tokens past the request are dropped
            generated += tokens
            computed += tokens
            if trim:
                held = rs.blocks[:k]
                keep = np.minimum(held, kv.blocks_for_many(computed) + kv.state_blocks)
                kv.free_blocks += int((held - keep).sum())
                held[:] = keep
            done = np.flatnonzero(plan.decoding & (generated >= output))
            if done.size:
                finished = sorted(set(finished).union(done.tolist()))
            last = rs.last_token_s[:k]
            first_end = start + durations[0]  # each request's first gap runs from its last token
            self.recorder.token_gaps(first_end - last[plan.decoding])
            last[plan.decoding] = now
            self.recorder.token_gaps(durations[1:], batch)
        self.recorder.iterations += durations.size
        self.recorder.trace(self.index, start, now - start, batch, len(plan.chunks),
                            int(tokens.sum()) if batch else 0)
        if finished:
            for request in rs.remove(finished):
                kv.release(request.blocks)
                request.blocks = 0
                self.outstanding -= 1
                self.recorder.finished(request, now)
                if request.on_finish is not None:
                    request.on_finish(request)
