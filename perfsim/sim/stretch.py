"""Sampled decode stretches that run past finishing requests (offline batches).

A strategy that finalises a random number of tokens per iteration (speculative, diffusion) draws
the tokens of many iterations up front. In a serving run a stretch stops at the first finishing
request, because its client may send the next request then. In an offline batch (RL rollout
generation, `LLM.generate`) nothing arrives and nothing waits, so the batch only shrinks: a stretch
can run until every request in it has finished (or the draws run out), each iteration priced at
the batch still running and the mean context of those requests. Finishes, inter-token gaps and
each request's last token keep the time of the iteration they happened in. This cuts the
simulator's events from one per finishing request to one per stretch.
"""

from __future__ import annotations

import numpy as np


def accept_until_done(drawn: np.ndarray, remaining: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative tokens per request and iteration, capped at what each request has left; the
    iteration index in which each request finishes, or the number of iterations drawn if it does
    not) from `drawn` tokens per request and iteration (k x horizon)."""
    accepted = np.minimum(np.cumsum(drawn, axis=1), remaining[:, None])
    reached = accepted >= remaining[:, None]
    finish = np.where(reached.any(axis=1), reached.argmax(axis=1), drawn.shape[1])
    return accepted, finish


def running_mask(finish: np.ndarray, iterations: int) -> np.ndarray:
    """active[i, t]: request i runs iteration t (it has not finished in an earlier one)."""
    return np.arange(iterations)[None, :] <= finish[:, None]


def batches_and_contexts(computed: np.ndarray, accepted: np.ndarray,
                         active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per iteration: the sequences still running and their mean context (tokens with KV when the
    iteration starts), for pricing each iteration at the batch it really has."""
    iterations = active.shape[1]
    before = np.zeros_like(accepted[:, :iterations], dtype=float)
    before[:, 1:] = accepted[:, : iterations - 1]
    sizes = active.sum(axis=0)
    contexts = ((computed[:, None] + before) * active).sum(axis=0) / np.maximum(sizes, 1)
    return sizes, contexts
