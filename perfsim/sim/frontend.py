"""The API server in front of each replica: per-request host work before the engine sees a request.

A serving engine's API server (vLLM's OpenAI server, SGLang's tokenizer manager) parses the HTTP
request, applies the chat template, tokenises and hands the request to the engine core over IPC
before any GPU work starts. That is host time per request on one frontend process, so requests
queue behind each other there when they arrive together: a FIFO single server with a fixed
service time (`EngineConfig.api_server_s`, a runtime's `host.per_request`). TTFT counts from the
arrival at the server, as a benchmark client measures it. With no per-request cost the frontend
is bypassed and the engine sees each request at its arrival.
"""

from __future__ import annotations

import simpy

from perfsim.sim.engine import Replica
from perfsim.sim.requests import Request


class Frontend:
    """One replica's API-server process: serves requests in arrival order, `service_s` each."""

    def __init__(self, env: simpy.Environment, replica: Replica, service_s: float):
        self.env, self.replica, self.service_s = env, replica, service_s
        self._free_at_s = 0.0  # when the server finishes the requests already handed to it

    def submit(self, request: Request) -> None:
        if self.service_s == 0.0:
            self.replica.submit(request)
            return
        ready_s = max(self.env.now, self._free_at_s) + self.service_s
        self._free_at_s = ready_s
        self.replica.outstanding += 1  # routers see it at once, as a real router counts it
        self.env.timeout(ready_s - self.env.now).callbacks.append(lambda _event: self._hand_over(request))

    def _hand_over(self, request: Request) -> None:
        self.replica.outstanding -= 1  # Replica.submit counts it again
        self.replica.submit(request)
