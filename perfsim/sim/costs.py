"""Iteration costs for the serving simulator: the predictor's step latency, tabulated once.

A simulated run prices tens of thousands of iterations; calling the predictor for each would
dominate the run. Every kernel of a step depends on one thing only: the step's token count
(projections, MLP/MoE, norms, all-reduce), its logit rows (lm_head, sampling), the decode batch
and its cached context (decode attention and scans), or one prefill chunk's length and past
(prefill attention and scans). So an iteration with B decoding sequences at mean context c and
prefill chunks (P_i new tokens after past_i cached) costs

    decode(B, c) + tok[T_d + sum P_i] - tok[T_d] + rows[R_d + n] - rows[R_d] + sum_i pre(P_i, past_i)

where decode(B, c) is the decoding strategy's whole iteration (draft forwards included, host cost
per running sequence too) and T_d, R_d are its target forward's tokens and logit rows; each chunk
adds its sequence's host cost per step. Integer axes (tokens, rows, batch, chunk
length) are exact tables: tile and wave quantisation make them jagged. Contexts are interpolated
linearly on geometric grids. Decode attention is priced at the mean
context (its bytes and FLOPs are linear in each sequence's context, so the sum is exact but for
sliding windows, where min(c_i, window) is not linear). Several prefill chunks in one iteration
are priced as separate kernels. The short-conv kernels of Mamba/linear-attention layers also read
one conv state per sequence; the token table carries one, so a mixed step misses the others'
(about 1e-4 of the step). Each kernel's wall time comes from the predictor's launch model
(`perfsim.cost.step.LaunchModel.kernel_s`): with eager launches max(device time, host enqueue
time), the queue-drained limit of its launch recurrence. Where the runtime's graphs stop at a
capture size (or skip prefill), a mixed iteration they do not cover (LaunchModel.graphed_at, the one
place that decides) is priced from device seconds and kernels summed apart (perfsim.sim.ungraphed).
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.cost.step import LaunchModel, kernel_times, step_latency
from perfsim.decoding import DecodingStrategy
from perfsim.sim.ungraphed import UngraphedMixes, part_of
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


def _geometric(upper: int, points: int, start: int = 1) -> np.ndarray:
    return np.unique(np.rint(np.geomspace(start, max(upper, start), points))).astype(float)


class IterationCosts:
    """Seconds per engine iteration for one (model, hardware, strategy, execution, engine limits)."""

    def __init__(self, model: ModelSpec, hw: HardwareProfile, strategy: DecodingStrategy,
                 execution: Execution, *, max_seqs: int, max_tokens: int, max_context: int):
        self.strategy = strategy
        probe = strategy.target_step(1, 1)
        #: Query slots one decoding sequence occupies in the target forward (k+1 when verifying).
        self.query_tokens = int(probe.tokens)
        self._rows_per_seq = float(probe.logit_rows)
        self._launch = LaunchModel.of(hw, execution)
        self._model, self._hw, self._execution = model, hw, execution

        self.context_grid = _geometric(max_context, 96)
        batches = np.arange(max_seqs + 1, dtype=float)[:, None]
        self.decode_table = np.asarray(strategy.iteration_latency(
            model, hw, batches, self.context_grid[None, :], execution), dtype=float)
        self.decode_table = np.broadcast_to(self.decode_table, (max_seqs + 1, self.context_grid.size)).copy()
        self.base_s = float(step_latency(model, hw, StepBatch(), execution))
        self.decode_table[0, :] = self.base_s
        self._decode_rows = [row for row in self.decode_table]  # cheap per-B access

        t_max = max_tokens + max_seqs * self.query_tokens + 1
        tokens = np.arange(t_max + 1, dtype=float)
        self.token_table = self._sum(StepBatch(prefill_seqs=1, prefill_tokens=tokens), "token")
        self.token_table[0] = 0.0
        r_max = int(max_seqs * self._rows_per_seq + max_seqs) + 1
        rows = np.arange(r_max + 1, dtype=float)
        self.row_table = self._sum(StepBatch(decode_seqs=rows, decode_context=1), "rows")
        self.row_table[0] = 0.0

        self.chunk_grid = np.arange(1.0, max_tokens + 1)  # exact: tile waves make it jagged
        self.past_grid = np.concatenate([[0.0], _geometric(max_context, 64)])
        chunk = StepBatch(prefill_seqs=1, prefill_tokens=self.chunk_grid[:, None],
                          prefill_past=self.past_grid[None, :])
        self.prefill_table = np.broadcast_to(self._sum(chunk, "prefill"),
                                             (self.chunk_grid.size, self.past_grid.size)).copy()
        self._prefill_rows = self.prefill_table.tolist()
        self._past_list = self.past_grid.tolist()
        self._ungraphed = UngraphedMixes(
            model, hw, strategy, execution, self._launch, tokens=tokens, rows=rows, chunk=chunk,
            context_grid=self.context_grid, past_grid=self.past_grid, decode_table=self.decode_table,
        ) if self._launch.limited else None

    def _sum(self, step: StepBatch, part: str) -> np.ndarray:
        total = 0.0
        for _name, role, count, t, n in kernel_times(self._model, self._hw, step, self._execution):
            if _part_of(role) != part:
                continue
            t = self._launch.kernel_s(t, n)
            total = total + count * np.asarray(t, dtype=float)
        return np.array(total, dtype=float)

    def decode(self, batch: int, mean_context: float) -> float:
        """A decode-only iteration (the strategy's whole iteration, drafts included)."""
        if batch == 0:
            return self.base_s
        return float(np.interp(mean_context, self.context_grid, self._decode_rows[batch]))

    def decode_run(self, batch: int, mean_contexts: np.ndarray) -> np.ndarray:
        """Durations of consecutive decode-only iterations at the given mean contexts."""
        return np.interp(mean_contexts, self.context_grid, self._decode_rows[batch])

    def decode_sizes(self, batches: np.ndarray, mean_contexts: np.ndarray) -> np.ndarray:
        """Durations of consecutive decode-only iterations whose batch changes (np.interp per
        iteration along its batch's row of the table, vectorised)."""
        grid = self.context_grid
        c = np.clip(mean_contexts, grid[0], grid[-1])
        j = np.clip(np.searchsorted(grid, c, side="right") - 1, 0, grid.size - 2)
        w = (c - grid[j]) / (grid[j + 1] - grid[j])
        rows = self.decode_table[np.asarray(batches, dtype=np.int64)]
        picked = np.take_along_axis(rows, np.stack([j, j + 1], axis=1), axis=1)
        return picked[:, 0] * (1 - w) + picked[:, 1] * w

    def prefill_chunk(self, tokens: int, past: int) -> float:
        """Prefill attention/scan kernels of one chunk (exact in length, linear in past)."""
        j = min(max(bisect_right(self._past_list, past) - 1, 0), len(self._past_list) - 2)
        p0, p1 = self._past_list[j], self._past_list[j + 1]
        v = min(max((past - p0) / (p1 - p0), 0.0), 1.0)
        row = self._prefill_rows[tokens - 1]
        return (1 - v) * row[j] + v * row[j + 1]

    def mixed(self, batch: int, mean_context: float, chunks: list[tuple[int, int]]) -> float:
        """A decode batch plus prefill chunks (new tokens, tokens already cached) in one forward."""
        t = self.decode(batch, mean_context)
        if not chunks:
            return t
        t_d = int(batch * self.query_tokens)
        r_d = int(round(batch * self._rows_per_seq))
        new = sum(c for c, _ in chunks)
        if self._ungraphed is not None and not self._launch.graphed_at(t_d + new, batch + len(chunks), new):
            t = self._ungraphed.mixed(batch, mean_context, t_d, r_d, chunks)
            return float(t + self._launch.host_per_seq_per_step_s * len(chunks))
        t += self.token_table[t_d + new] - self.token_table[t_d]
        t += self.row_table[r_d + len(chunks)] - self.row_table[r_d]
        for tokens, past in chunks:
            t += self.prefill_chunk(tokens, past)
        return float(t + self._launch.host_per_seq_per_step_s * len(chunks))


_part_of = part_of  # (the name the layer registry tests read)
