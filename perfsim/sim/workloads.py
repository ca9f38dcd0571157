"""Workloads: who sends which request when. Open loop (Poisson, gamma), trace replay, batch;
closed-loop benchmark clients are in perfsim.sim.clients.

A workload starts simpy processes that hand requests to `submit`; it does not know about engines.
Open-loop arrivals are drawn up front from the seeded generator, so a seed fixes the whole run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import simpy

from perfsim.checks import count, positive
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_RATE_PER_S, MAX_REQUESTS, MAX_SIZE
from perfsim.registry import Registry
from perfsim.sim.lengths import LengthDist, as_length_dist
from perfsim.sim.requests import Request

Submit = Callable[[Request], None]


class Workload:
    """Base class of workloads (an extension point of `perfsim.sim`).

    A subclass is a frozen dataclass of its parameters, registered with
    `@register_workload("name")` (also written to `cls.name`); validate in `__post_init__` and
    raise `PerfsimInputError`. It must provide `num_requests` (a field or a property), the number
    of requests it submits (the run sizes its recorder by it and checks that all finished).

    Must implement:
        max_lengths() -> (longest prompt, most prompt + output tokens)
            Used to check that one request fits the engine before simulating.
        start(env, submit, rng) -> None
            Start simpy processes on `env` that call `submit(Request(...))`; draw every random
            number from `rng` (seeded per run) so a seed fixes the whole run.

    May override:
        describe() -> str
            One line for reports (default: the registered name).
    Open-loop arrivals: subclass `_OpenLoop` and implement `gaps(rng)` only (see `Poisson`).
    """

    name = "workload"
    #: True for an in-process offline engine (vLLM's LLM.generate, RL rollout generation): requests
    #: reach the engine directly, with no API server (EngineConfig.api_server_s) in front.
    offline = False
    if TYPE_CHECKING:
        # Read-only here: subclasses hold it as a field or derive it (Trace, Batch).
        @property
        def num_requests(self) -> int: ...

    def max_lengths(self) -> tuple[int, int]:
        """Longest prompt, and most prompt + output tokens, one request can have (fit checks)."""
        raise NotImplementedError

    def start(self, env: simpy.Environment, submit: Submit, rng: np.random.Generator) -> None:
        """Start the processes that submit this workload's requests into `env`."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


_WORKLOADS: Registry[type[Workload]] = Registry("workload", "name")
register_workload = _WORKLOADS.register
registered_workloads = _WORKLOADS.as_dict


class _OpenLoop(Workload):
    """Arrivals at given gaps; subclasses say how gaps are drawn."""

    rate: float
    num_requests: int
    prompt_len: int | tuple[int, int] | LengthDist
    output_len: int | tuple[int, int] | LengthDist

    def _validate(self) -> None:
        positive(f"{self.name} rate (requests/s)", self.rate, MAX_RATE_PER_S)
        count("num_requests", self.num_requests, MAX_REQUESTS)
        object.__setattr__(self, "prompt_len", as_length_dist(self.prompt_len, "prompt_len"))
        object.__setattr__(self, "output_len", as_length_dist(self.output_len, "output_len"))

    def gaps(self, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def max_lengths(self) -> tuple[int, int]:
        prompt, output = self.prompt_len, self.output_len
        assert isinstance(prompt, LengthDist) and isinstance(output, LengthDist)  # set in _validate
        return prompt.max_tokens, prompt.max_tokens + output.max_tokens

    def start(self, env, submit, rng):
        arrivals = np.cumsum(self.gaps(rng))
        prompts = self.prompt_len.sample(rng, self.num_requests)
        outputs = self.output_len.sample(rng, self.num_requests)
        env.process(_replay(env, submit, arrivals, prompts, outputs))

    def describe(self) -> str:
        return f"{self.name} {self.rate:g} req/s x {self.num_requests}"


def _replay(env, submit, arrivals, prompts, outputs):
    for rid, (at, p, o) in enumerate(zip(arrivals.tolist(), prompts.tolist(), outputs.tolist(),
                                         strict=True)):
        if at > env.now:
            yield env.timeout(at - env.now)
        submit(Request(rid, env.now, p, o))


@register_workload("poisson")
@dataclass(frozen=True)
class Poisson(_OpenLoop):
    """Exponential inter-arrival gaps at `rate` requests/s."""

    rate: float
    num_requests: int = 1000
    prompt_len: int | tuple[int, int] | LengthDist = 1024
    output_len: int | tuple[int, int] | LengthDist = 256

    def __post_init__(self) -> None:
        self._validate()

    def gaps(self, rng):
        return rng.exponential(1.0 / self.rate, self.num_requests)


@register_workload("gamma")
@dataclass(frozen=True)
class Gamma(_OpenLoop):
    """Gamma inter-arrival gaps with mean 1/rate and coefficient of variation `cv` (burstier
    than Poisson when cv > 1; cv = 1 is Poisson)."""

    rate: float
    cv: float = 2.0
    num_requests: int = 1000
    prompt_len: int | tuple[int, int] | LengthDist = 1024
    output_len: int | tuple[int, int] | LengthDist = 256

    def __post_init__(self) -> None:
        self._validate()
        if not self.cv > 0:
            raise PerfsimInputError(f"gamma cv must be > 0 (got {self.cv}).")

    def gaps(self, rng):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, 1.0 / (self.rate * shape), self.num_requests)


@register_workload("trace")
@dataclass(frozen=True)
class Trace(Workload):
    """Replay a CSV with columns arrival_s, prompt_tokens, output_tokens (any order, extra columns
    ignored). Arrival times are seconds from the start of the run and must not decrease."""

    path: str | os.PathLike
    #: (arrival_s, prompt_tokens, output_tokens) arrays, read from `path` in __post_init__.
    _arrays: tuple[np.ndarray, np.ndarray, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import pandas as pd

        path = Path(self.path)
        if not path.is_file():
            raise PerfsimInputError(f"{path}: trace file not found.")
        try:
            frame = pd.read_csv(path)
        except (ValueError, pd.errors.ParserError) as exc:
            raise PerfsimInputError(f"{path}: not a readable CSV ({exc}).") from None
        needed = ["arrival_s", "prompt_tokens", "output_tokens"]
        missing = [c for c in needed if c not in frame]
        if missing:
            raise PerfsimInputError(f"{path}: missing column(s) {', '.join(missing)}; a trace needs "
                                    f"{', '.join(needed)}.")
        if frame.empty:
            raise PerfsimInputError(f"{path}: the trace has no rows.")
        numbers = frame[needed].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        arrivals, lengths = numbers[:, 0], numbers[:, 1:]
        if not np.all(np.isfinite(arrivals)) or np.any(np.diff(arrivals) < 0) or arrivals[0] < 0:
            raise PerfsimInputError(f"{path}: arrival_s must be >= 0 and non-decreasing, every row a number.")
        if (not np.all(np.isfinite(lengths)) or np.any(lengths < 1) or np.any(lengths > MAX_SIZE)
                or np.any(lengths != np.round(lengths))):
            raise PerfsimInputError(f"{path}: prompt_tokens and output_tokens must be integers from 1 to "
                                    f"{MAX_SIZE:,}.")
        if len(arrivals) > MAX_REQUESTS:
            raise PerfsimInputError(f"{path}: a trace may hold at most {MAX_REQUESTS:,} requests "
                                    f"(got {len(arrivals):,}).")
        object.__setattr__(self, "_arrays", (arrivals, lengths[:, 0].astype(np.int64),
                                             lengths[:, 1].astype(np.int64)))

    @property
    def num_requests(self) -> int:
        return len(self._arrays[0])

    def max_lengths(self) -> tuple[int, int]:
        prompts, outputs = self._arrays[1], self._arrays[2]
        return int(prompts.max()), int((prompts + outputs).max())

    def start(self, env, submit, rng):
        env.process(_replay(env, submit, *self._arrays))

    def describe(self) -> str:
        return f"trace {Path(self.path).name} ({self.num_requests} requests)"


@register_workload("batch")
@dataclass(frozen=True, eq=False)
class Batch(Workload):
    """Offline batch: every request is there at time 0 with its own prompt and output length
    (RL rollout generation, offline inference)."""

    offline = True  # no API server in front of an offline engine
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray

    def __post_init__(self) -> None:
        prompts = np.asarray(self.prompt_tokens, dtype=np.int64)
        outputs = np.asarray(self.output_tokens, dtype=np.int64)
        if prompts.ndim != 1 or prompts.shape != outputs.shape or not prompts.size:
            raise PerfsimInputError("batch workload: prompt_tokens and output_tokens must be equal-length, "
                                    "non-empty 1-D integer arrays.")
        if prompts.min() < 1 or outputs.min() < 1 or max(prompts.max(), outputs.max()) > MAX_SIZE:
            raise PerfsimInputError(f"batch workload: every prompt and output length must be from 1 to "
                                    f"{MAX_SIZE:,}.")
        object.__setattr__(self, "prompt_tokens", prompts)
        object.__setattr__(self, "output_tokens", outputs)

    @property
    def num_requests(self) -> int:
        return int(self.prompt_tokens.size)

    def max_lengths(self) -> tuple[int, int]:
        return int(self.prompt_tokens.max()), int((self.prompt_tokens + self.output_tokens).max())

    def start(self, env, submit, rng):
        env.process(_replay(env, submit, np.zeros(self.num_requests), self.prompt_tokens,
                            self.output_tokens))

    def describe(self) -> str:
        return f"batch of {self.num_requests} at t=0"


make_workload = _WORKLOADS.create
