"""The running batch as arrays in admission order, so an iteration updates hundreds of sequences
with a few numpy operations on slices instead of a Python loop per sequence (what makes 10^4
simulated requests per second possible). `Request` objects keep the per-request record; while a
request runs its token counters live here and are written back when it leaves the batch.
"""

from __future__ import annotations

import numpy as np

from perfsim.sim.requests import Request

_FIELDS = ("prompt", "output", "computed", "generated", "blocks", "last_token_s")


class RunningSet:
    def __init__(self, capacity: int):
        self.prompt, self.output, self.computed, self.generated, self.blocks = (
            np.zeros(capacity, dtype=np.int64) for _ in range(5))
        self.last_token_s = np.zeros(capacity)
        self.requests: list[Request] = []
        self.n = 0
        #: Requests not decoding (prefilling, or refilling after preemption); usually none, which
        #: lets the scheduler skip per-request checks.
        self.filling = 0
        self.all_decoding = np.ones(capacity, dtype=bool)

    def __len__(self) -> int:
        return self.n

    def add(self, r: Request) -> int:
        i = self.n
        self.prompt[i], self.output[i] = r.prompt_len, r.output_len
        self.computed[i], self.generated[i], self.blocks[i] = r.computed, r.generated, r.blocks
        self.last_token_s[i] = r.last_token_s
        self.requests.append(r)
        self.n += 1
        self.filling += 1  # admitted requests always have tokens to (re)fill
        return i

    def _write_back(self, i: int) -> Request:
        r = self.requests[i]
        r.computed, r.generated, r.blocks = (int(self.computed[i]), int(self.generated[i]),
                                             int(self.blocks[i]))
        r.last_token_s = float(self.last_token_s[i])
        return r

    def pop_last(self) -> Request:
        """The most recently admitted request leaves (preemption)."""
        if not self.decoding(self.n)[-1]:
            self.filling -= 1
        r = self._write_back(self.n - 1)
        self.requests.pop()
        self.n -= 1
        return r

    def remove(self, positions: list[int]) -> list[Request]:
        """Finished (decoding) requests at `positions` leave; the rest keep their order."""
        gone = [self._write_back(i) for i in positions]
        columns = [getattr(self, name) for name in _FIELDS]
        for i in sorted(positions, reverse=True):  # usually one: shifting beats a mask copy
            for column in columns:
                column[i : self.n - 1] = column[i + 1 : self.n]
            del self.requests[i]
            self.n -= 1
        return gone

    def decoding(self, k: int) -> np.ndarray:
        """Among the first k: only the last sampled token lacks KV (a request that is prefilling,
        or refilling after preemption, is not decoding)."""
        if not self.filling:
            return self.all_decoding[:k]
        gen = self.generated[:k]
        return (gen > 0) & (self.computed[:k] == self.prompt[:k] + gen - 1)
