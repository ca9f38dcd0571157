"""The API server in front of each replica: per-request host work before the engine sees a request.

A serving engine's API server (vLLM's OpenAI server, SGLang's tokenizer manager) parses the HTTP
request, applies the chat template, tokenises and hands the request to the engine core over IPC
before any GPU work starts; the client also pays the first streamed chunk's trip back. The public
data that size it are TTFT offsets at one request in flight (`host.per_request`, fitted by
benchmarks/fit_runtime_host.py), which say how long a request spends there, not how much of that
is serial CPU work on one process. So each request reaches the engine `EngineConfig.api_server_s`
after it arrives, with no queueing at the frontend: a throughput cap would be a guess. TTFT counts
from the arrival, as a benchmark client measures it. With no per-request cost the frontend is
bypassed and the engine sees each request at its arrival.
"""

from __future__ import annotations

import simpy

from perfsim.sim.engine import Replica
from perfsim.sim.requests import Request


class Frontend:
    """One replica's API server: hands each request to the engine `delay_s` after its arrival."""

    def __init__(self, env: simpy.Environment, replica: Replica, delay_s: float):
        self.env, self.replica, self.delay_s = env, replica, delay_s

    def submit(self, request: Request) -> None:
        if self.delay_s == 0.0:
            self.replica.submit(request)
            return
        self.replica.outstanding += 1  # routers see it at once, as a real router counts it
        self.env.timeout(self.delay_s).callbacks.append(lambda _event: self._hand_over(request))

    def _hand_over(self, request: Request) -> None:
        self.replica.outstanding -= 1  # Replica.submit counts it again
        self.replica.submit(request)
