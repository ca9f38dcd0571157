"""Benchmark clients: closed-loop load as serving benchmark clients generate it.

`ClosedLoop` is `concurrency` clients, each sending its next request when its previous one
finishes. It follows the protocols of the common clients, so simulated TTFT/ITL can be set
beside a benchmark whose protocol is stated:

- client_start "burst": every client sends at t=0. This is vLLM `vllm bench serve` (v0.10-v0.11,
  vllm/benchmarks/serve.py) with `--request-rate inf --max-concurrency N` (all requests released
  at once, a semaphore keeps N in flight; latency is timed from when a request is sent, not
  from when it waited on the semaphore) and genai-perf / perf_analyzer `--concurrency N`.
- client_start "staggered": client k starts at k * ramp_s / (concurrency - 1), so the concurrency
  climbs by one at evenly spaced times from 1 to N, reaching N at ramp_s. This is AIPerf's
  `--concurrency-ramp-duration` (ai-dynamo/aiperf v0.12-v0.13, docs/tutorials/ramping.md).
- warmup_requests N: the first N requests issued are a warm-up phase and are excluded from
  every metric (AIPerf `--warmup-request-count`, docs/tutorials/warmup.md; genai-perf's
  `--warmup-request-count` likewise discards them). As AIPerf does by default, the measured
  phase starts only when every warm-up response is back, and it starts the clients again with
  the same `client_start` pattern (AIPerf ramps each phase from 1). `num_requests` counts every
  request submitted, warm-up included: `--warmup-request-count W --request-count R` is
  num_requests=W+R, warmup_requests=W.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perfsim.errors import PerfsimInputError
from perfsim.sim.lengths import LengthDist, as_length_dist
from perfsim.sim.requests import Request
from perfsim.sim.workloads import Workload, register_workload

CLIENT_STARTS = ("burst", "staggered")


def _finite_at_least_zero(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise PerfsimInputError(f"{name} must be a finite number of seconds >= 0 (got {value!r}).")


@register_workload("closed_loop")
@dataclass(frozen=True)
class ClosedLoop(Workload):
    """`concurrency` clients; each sends its next request when its previous one finishes (plus an
    optional think time), as serving benchmarks with a max-concurrency limit do.

    `client_start` "burst" (all clients at t=0) or "staggered" (evenly over `ramp_s`);
    `warmup_requests` first requests run as an unmeasured warm-up phase (see the module doc).
    """

    concurrency: int
    prompt_len: int | tuple[int, int] | LengthDist = 1024
    output_len: int | tuple[int, int] | LengthDist = 256
    num_requests: int = 1000
    think_time_s: float = 0.0
    client_start: str = "burst"
    ramp_s: float = 0.0
    warmup_requests: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise PerfsimInputError(f"concurrency must be a positive integer (got {self.concurrency!r}).")
        if not isinstance(self.num_requests, int) or self.num_requests < 1:
            raise PerfsimInputError(f"num_requests must be a positive integer (got {self.num_requests!r}).")
        if not (isinstance(self.think_time_s, (int, float)) and self.think_time_s >= 0
                and math.isfinite(self.think_time_s)):
            raise PerfsimInputError(f"think_time_s must be >= 0 (got {self.think_time_s}).")
        if self.client_start not in CLIENT_STARTS:
            raise PerfsimInputError(f"client_start must be one of {', '.join(CLIENT_STARTS)} "
                                    f"(got {self.client_start!r}).")
        _finite_at_least_zero(self.ramp_s, "ramp_s")
        if self.client_start == "burst" and self.ramp_s:
            raise PerfsimInputError(f"ramp_s must be 0 with client_start 'burst' (got {self.ramp_s}); "
                                    f"use client_start 'staggered' to ramp the clients in.")
        if isinstance(self.warmup_requests, bool) or not isinstance(self.warmup_requests, int) \
                or self.warmup_requests < 0:
            raise PerfsimInputError(
                f"warmup_requests must be an integer >= 0 (got {self.warmup_requests!r}).")
        if self.warmup_requests >= self.num_requests:
            raise PerfsimInputError(f"warmup_requests ({self.warmup_requests}) must be below num_requests "
                                    f"({self.num_requests}), which counts the warm-up too.")
        object.__setattr__(self, "prompt_len", as_length_dist(self.prompt_len, "prompt_len"))
        object.__setattr__(self, "output_len", as_length_dist(self.output_len, "output_len"))

    def max_lengths(self) -> tuple[int, int]:
        prompt, output = self.prompt_len, self.output_len
        assert isinstance(prompt, LengthDist) and isinstance(output, LengthDist)  # set in __post_init__
        return prompt.max_tokens, prompt.max_tokens + output.max_tokens

    def start_offsets(self, clients: int) -> list[float]:
        """Seconds after a phase begins at which each of `clients` clients sends its first request."""
        if self.client_start == "burst" or clients == 1:
            return [0.0] * clients
        step = self.ramp_s / (self.concurrency - 1)
        return [k * step for k in range(clients)]

    def start(self, env, submit, rng):
        total, warm = self.num_requests, self.warmup_requests
        prompts = self.prompt_len.sample(rng, total).tolist()
        outputs = self.output_len.sample(rng, total).tolist()
        # phase 0 is the warm-up (rids below `warm`), phase 1 the measured requests; a client's
        # pending send is dropped when its phase has ended, so a phase never exceeds concurrency.
        state = {"next": 0, "phase": 0 if warm else 1, "warm_left": warm}

        def send(phase: int) -> None:
            rid = state["next"]
            if phase != state["phase"] or rid >= (warm if phase == 0 else total):
                return
            state["next"] = rid + 1
            submit(Request(rid, env.now, prompts[rid], outputs[rid], on_finish=finished))

        def later(delay: float, phase: int) -> None:
            if delay:
                env.timeout(delay).callbacks.append(lambda _: send(phase))
            else:
                send(phase)

        def finished(r: Request) -> None:
            phase = 0 if r.rid < warm else 1
            if phase == 0:
                state["warm_left"] -= 1
                if not state["warm_left"]:  # the warm-up has drained: the measured phase begins
                    state["phase"] = 1
                    begin_phase(1, total - warm)
                    return
            later(self.think_time_s, phase)

        def begin_phase(phase: int, size: int) -> None:
            for offset in self.start_offsets(min(self.concurrency, size)):
                later(offset, phase)

        begin_phase(state["phase"], warm or total)

    def describe(self) -> str:
        text = f"closed loop, concurrency {self.concurrency} x {self.num_requests}"
        if self.client_start == "staggered":
            text += f", staggered over {self.ramp_s:g} s"
        if self.warmup_requests:
            text += f", {self.warmup_requests} warm-up"
        return text
