"""Iteration-level schedulers: which requests run in the next forward and with how many tokens.

`vllm` follows vLLM V1: running requests first (decodes and unfinished prefill chunks, in
admission order), then waiting requests FCFS while the token budget, the sequence limit and free
KV blocks allow, prefills chunked to the remaining budget. When a running request cannot grow, the
most recently admitted one is preempted by recompute (its blocks freed; it goes back to the front
of the queue and later refills prompt + generated tokens). `guaranteed_no_evict` is TensorRT-LLM's
default capacity policy (CapacitySchedulerPolicy.GUARANTEED_NO_EVICT): it schedules like `vllm` but
admits a request only when the blocks of its whole lifetime (prompt + output) are free after every
running request's remaining growth, so nothing is ever preempted, at the price of a smaller batch.
`prefill_first` is the older policy (vLLM V0 without chunked prefill, TGI): whole prompts run in
prefill-only iterations that pause decoding.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from perfsim.registry import Registry
from perfsim.sim.kvcache import KVCache
from perfsim.sim.requests import Request
from perfsim.sim.running import RunningSet

_NONE = np.zeros(0, dtype=bool)


@dataclass(slots=True)
class Plan:
    """The first `len(decoding)` running requests run; `decoding` marks those that decode (each
    with the strategy's query tokens); `chunks` are (position, new tokens) of those that (re)fill,
    admitted ones included."""

    decoding: np.ndarray = field(default_factory=lambda: _NONE)
    chunks: list[tuple[int, int]] = field(default_factory=list)
    preempted: int = 0

    @property
    def decodes(self) -> int:
        return int(np.count_nonzero(self.decoding))


@dataclass(slots=True)
class Queues:
    """What a scheduler sees and changes: the replica's batch, queue and KV pool."""

    running: RunningSet
    waiting: deque[Request]
    kv: KVCache
    max_seqs: int
    max_tokens: int
    chunked_prefill: bool
    query_tokens: int  # tokens a decoding request occupies in the forward (k+1 when verifying)

    def reserve(self, tokens: np.ndarray, plan: Plan) -> int:
        """Grow the first len(tokens) requests' blocks to hold `tokens` more each; returns how
        many got them. In admission order: the requests that fit get their blocks; at the first
        that does not, the most recently admitted request is preempted and the rest retried."""
        rs, kv, k, i = self.running, self.kv, tokens.size, 0
        while i < k:
            need = np.maximum(kv.blocks_for_many(rs.computed[i:k] + tokens[i:k]) + kv.state_blocks
                              - rs.blocks[i:k], 0)
            total = int(need.sum())
            if total <= kv.free_blocks:  # the usual case: everyone grows
                kv.free_blocks -= total
                rs.blocks[i:k] += need
                return k
            fits = int(np.searchsorted(np.cumsum(need), kv.free_blocks, side="right"))
            kv.free_blocks -= int(need[:fits].sum())
            rs.blocks[i : i + fits] += need[:fits]
            i += fits
            if i < k:
                k = min(k, rs.n - 1)  # the victim is the last admitted
                self.preempt_last()
                plan.preempted += 1
        return k

    def preempt_last(self) -> None:
        request = self.running.pop_last()
        self.kv.release(request.blocks)
        request.blocks = request.computed = 0
        request.preemptions += 1
        self.waiting.appendleft(request)

    def lifetime_blocks(self, prompt, output):
        """Blocks a request holds at its largest: every token but the last sampled one cached,
        plus the strategy's extra query slots in its last forward."""
        return self.kv.blocks_for_many(prompt + output + (self.query_tokens - 1)) + self.kv.state_blocks

    def admit(self, budget: int, plan: Plan, whole_prompts: bool, guarantee: bool = False) -> int:
        """Move waiting requests into the batch FCFS; returns the budget left. With `guarantee`,
        a request enters only if its lifetime blocks fit beside what the running ones still owe."""
        rs = self.running
        if guarantee:
            n = rs.n
            owed = int(np.maximum(self.lifetime_blocks(rs.prompt[:n], rs.output[:n]) - rs.blocks[:n],
                                  0).sum())
        while self.waiting and budget > 0 and rs.n < self.max_seqs:
            request = self.waiting[0]
            need = request.num_tokens - request.computed
            if need > budget and whole_prompts:
                break
            n = min(need, budget)
            if guarantee:
                whole = int(self.lifetime_blocks(request.prompt_len, request.output_len)) - request.blocks
                if owed + whole > self.kv.free_blocks:
                    break
            held = self.kv.try_grow(request.blocks, request.computed + n)
            if held is None:
                break
            if guarantee:
                owed += whole - (held - request.blocks)
            request.blocks = held
            self.waiting.popleft()
            plan.chunks.append((rs.add(request), n))
            budget -= n
        return budget


class Scheduler:
    """Base class of iteration-level schedulers (an extension point of `perfsim.sim`).

    Registered with `@register_scheduler("name")` (the name `EngineConfig(scheduler=...)` and the
    CLI's `--scheduler` take; it is also written to `cls.name`). The engine creates one instance per
    replica with no arguments, so per-replica state may live on the instance.

    Must implement:
        schedule(q: Queues) -> Plan
            Called once per iteration. Choose which running requests decode and which requests
            (re)fill how many prompt tokens, within `q.max_tokens` tokens and `q.max_seqs`
            sequences. Grow KV blocks only through the `Queues` helpers: `q.reserve(tokens, plan)`
            for running requests (it preempts the most recent on shortage and counts it in
            `plan.preempted`) and `q.admit(budget, plan, whole_prompts, guarantee)` for waiting
            ones. A decoding request occupies `q.query_tokens` slots (k + 1 when verifying).

    May override: nothing else; set class attributes to parameterise a subclass (see
    `GuaranteedNoEvict`, which only sets `guarantee = True`).
    """

    name = "scheduler"

    def schedule(self, q: Queues) -> Plan:
        raise NotImplementedError


_SCHEDULERS: Registry[type[Scheduler]] = Registry("scheduler", "name")
register_scheduler = _SCHEDULERS.register
registered_schedulers = _SCHEDULERS.as_dict


@register_scheduler("vllm")
class DecodeFirstChunked(Scheduler):
    guarantee = False

    def schedule(self, q: Queues) -> Plan:
        plan, budget, rs = Plan(), q.max_tokens, q.running
        if rs.n and not rs.filling:  # the usual iteration: every running request decodes
            k = min(rs.n, budget // q.query_tokens)  # whole demands within budget
            k = q.reserve(np.full(k, q.query_tokens), plan)
            plan.decoding = rs.all_decoding[:k]
            budget -= k * q.query_tokens
        elif rs.n:
            n = rs.n
            decoding = rs.decoding(n)
            if rs.filling:
                demand = np.where(decoding, q.query_tokens,
                                  rs.prompt[:n] + rs.generated[:n] - rs.computed[:n])
            else:
                demand = np.full(n, q.query_tokens)
            cum = np.cumsum(demand)
            k = int(np.searchsorted(cum, budget, side="right"))  # whole demands within budget
            tokens = demand[:k]
            if k < n and not decoding[k] and q.chunked_prefill:
                left = budget - (int(cum[k - 1]) if k else 0)
                if left > 0:  # the first request over budget gets a partial chunk
                    tokens = np.append(tokens, left)
            k = q.reserve(tokens, plan)
            plan.decoding = decoding[:k]
            if rs.filling:
                filling = np.flatnonzero(~plan.decoding)  # few: new and preempted requests
                plan.chunks = list(zip(filling.tolist(), tokens[filling].tolist(), strict=True))
            budget -= int(tokens[:k].sum())
        if not plan.preempted:
            q.admit(budget, plan, whole_prompts=not q.chunked_prefill, guarantee=self.guarantee)
        return plan


@register_scheduler("guaranteed_no_evict")
class GuaranteedNoEvict(DecodeFirstChunked):
    guarantee = True


@register_scheduler("prefill_first")
class PrefillFirst(Scheduler):
    def schedule(self, q: Queues) -> Plan:
        plan = Plan()
        q.admit(q.max_tokens, plan, whole_prompts=True)
        if plan.chunks or not q.running.n:
            return plan
        k = q.reserve(np.full(q.running.n, q.query_tokens), plan)
        plan.decoding = np.ones(k, dtype=bool)
        return plan
