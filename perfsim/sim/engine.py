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

import numpy as np
import simpy

from perfsim.decoding import Autoregressive, DecodingStrategy
from perfsim.sim.config import EngineConfig
from perfsim.sim.costs import IterationCosts
from perfsim.sim.kvcache import KVCache
from perfsim.sim.metrics import Recorder
from perfsim.sim.requests import Request
from perfsim.sim.running import RunningSet
from perfsim.sim.scheduler import Queues, registered_schedulers
from perfsim.sim.stretch import accept_until_done, batches_and_contexts, running_mask

#: Longest decode stretch advanced as one event (bounds the per-stretch arrays).
MAX_STRETCH = 4096
#: Most token draws (requests x iterations) sampled ahead for one stochastic stretch.
MAX_SAMPLED = 1 << 16


class Replica:
    """One model instance (tensor parallelism inside the execution) with its queues and KV pool."""

    def __init__(self, env: simpy.Environment, index: int, config: EngineConfig, kv: KVCache,
                 costs: IterationCosts, strategy: DecodingStrategy, recorder: Recorder,
                 rng: np.random.Generator, *, offline: bool = False):
        self.env, self.index, self.config, self.kv, self.costs = env, index, config, kv, costs
        #: An offline batch (no client waits on a finish): sampled stretches run past finishes.
        self.offline = offline
        self.strategy, self.recorder, self.rng = strategy, recorder, rng
        assert config.max_num_seqs is not None and config.max_batched_tokens is not None  # resolved
        self.running = RunningSet(config.max_num_seqs)
        self.queues = Queues(running=self.running, waiting=deque(), kv=kv, max_seqs=config.max_num_seqs,
                             max_tokens=config.max_batched_tokens, chunked_prefill=not config.whole_prompts,
                             query_tokens=costs.query_tokens)
        self.scheduler = registered_schedulers()[config.scheduler]()
        self.deterministic = isinstance(strategy, Autoregressive)
        self.mean_tokens = max(strategy.expected_tokens(), 1.0)
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
            if batch == k:  # all decode (the usual case): a plain sum, no masked product
                context = int(rs.computed[:k].sum()) / batch if batch else 0.0
            else:
                context = int(rs.computed[:k] @ plan.decoding) / batch if batch else 0.0
            stretch, accepted, active = 1, None, None
            if batch == k and not plan.chunks and not plan.preempted:
                if self.deterministic:
                    stretch = self._reserve_stretch(k)
                elif self.offline and not q.waiting:
                    stretch, accepted, active = self._reserve_stretch_to_the_end(k)
                else:
                    stretch, accepted = self._reserve_sampled_stretch(k)
            if stretch > 1:
                if active is not None:
                    sizes, contexts = batches_and_contexts(rs.computed[:k], accepted, active)
                    durations = self.costs.decode_sizes(sizes, contexts) + overhead
                elif accepted is None:
                    durations = self.costs.decode_run(batch, context + np.arange(stretch)) + overhead
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
                self._commit(plan, tokens, durations[:done], start, trim=trim,
                             active=None if active is None else active[:, :done])
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
        rs = self.running
        remaining = rs.output[:k] - rs.generated[:k]
        horizon = self._horizon(k, int(remaining.min()))
        if horizon <= 1:
            return 1, None
        drawn = self.strategy.sample_tokens(self.rng, k * horizon).reshape(k, horizon)
        # the request with the fewest tokens left finishes by iteration `last`, so no stretch
        # reaches past it: only those columns are accumulated (every iteration yields >= 1 token)
        r = int(remaining.argmin())
        last = min(int(np.searchsorted(np.cumsum(drawn[r]), remaining[r])), horizon - 1)
        accepted = np.cumsum(drawn[:, : last + 1], axis=1)
        reached = (accepted >= remaining[:, None]).any(axis=0)
        first = int(reached.argmax()) if reached.any() else horizon - 1
        return self._grant_sampled(k, first + 1, accepted), accepted

    def _reserve_stretch_to_the_end(self, k: int) -> tuple[int, np.ndarray, np.ndarray]:
        """An offline batch's sampled stretch (perfsim.sim.stretch): draw up to MAX_SAMPLED tokens
        ahead and run until every request has finished, the draws end or KV runs short. Returns
        the iterations, each request's cumulative tokens and which requests run each iteration."""
        rs = self.running
        remaining = rs.output[:k] - rs.generated[:k]
        horizon = max(1, self._horizon(k, int(remaining.max())))
        drawn = self.strategy.sample_tokens(self.rng, k * horizon).reshape(k, horizon)
        accepted, finish = accept_until_done(drawn, remaining)
        m = self._grant_sampled(k, min(int(finish.max()) + 1, horizon), accepted)
        return m, accepted, running_mask(finish, m)

    def _horizon(self, k: int, tokens: int) -> int:
        """Iterations to draw for a request with `tokens` left: a stretch may end early without bias
        (the draws are i.i.d.; the next stretch draws anew), so about twice what it needs on
        average, not its worst case, and at most MAX_SAMPLED draws in all."""
        return min(tokens, 2 * int(tokens / self.mean_tokens) + 4, MAX_STRETCH, max(2, MAX_SAMPLED // k))

    def _grant_sampled(self, k: int, m: int, accepted: np.ndarray) -> int:
        """_grant for a sampled stretch: iteration n (1-based) writes its query slots after the
        tokens the n-1 iterations before it accepted."""
        computed, q = self.running.computed[:k], self.costs.query_tokens
        return self._grant(k, m, lambda n: self.kv.blocks_for_many(computed + accepted[:, n - 2] + q))

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

    def _commit(self, plan, tokens: np.ndarray, durations: np.ndarray, start: float, trim: bool,
                active: np.ndarray | None = None) -> None:
        """Apply `tokens` per running position (zero where not decoding; summed over the
        iterations in `durations`) and the prefill chunks. `trim` gives back blocks reserved for
        tokens that were not kept (rejected drafts, a stretch cut short by an arrival). `active`
        (requests x iterations) marks a stretch that ran past finishes: each request's gaps, last
        token and finish keep the time of the iterations it ran."""
        now, kv, rs = self.env.now, self.kv, self.running
        k, batch = plan.decoding.size, plan.decodes
        finished: list[int] = []
        finish_s: dict[int, float] = {}  # finishes earlier than now (a stretch past finishes)
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
            if active is not None:
                ends = start + np.cumsum(durations)
                ran = active.sum(axis=1)  # iterations each request ran (>= 1)
                self.recorder.token_gaps(first_end - last)
                self.recorder.token_gaps_counted(durations[1:], active[:, 1:].sum(axis=0))
                last[:] = ends[ran - 1]
                finish_s = {i: float(last[i]) for i in finished}
            else:
                if batch == k:
                    self.recorder.token_gaps(first_end - last)
                    last[:] = now
                else:
                    self.recorder.token_gaps(first_end - last[plan.decoding])
                    last[plan.decoding] = now
                self.recorder.token_gaps(durations[1:], batch)
        self.recorder.iterations += durations.size
        self.recorder.trace(self.index, start, now - start, batch, len(plan.chunks),
                            int(tokens.sum()) if batch else 0)
        if finished:
            for i, request in zip(finished, rs.remove(finished), strict=True):
                kv.release(request.blocks)
                request.blocks = 0
                self.outstanding -= 1
                self.recorder.finished(request, finish_s.get(i, now))
                if request.on_finish is not None:
                    request.on_finish(request)
