"""Mixed iterations that the runtime's CUDA graphs do not cover, for the serving cost tables.

Above the largest capture size (or with prefill tokens, where a runtime's graphs are decode-only)
the engine launches every kernel of the forward itself, and the predictor prices that forward by
the pipeline limit max(device seconds, host enqueue seconds) over the whole forward
(perfsim.cost.launch.LaunchModel.ungraphed). That is not a sum of per-kernel wall times, so these
tables hold device seconds and kernels launched apart: the token, logit-row and prefill-chunk
tables' twins and the decoding strategy's target forward over batch x context. An iteration adds
them up before taking the limit; the rest of its decode iteration (draft forwards, host work) is
the decode table's row less that row's own target forward.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.cost.launch import LaunchModel
from perfsim.cost.step import kernel_times
from perfsim.decoding import DecodingStrategy
from perfsim.layers import KernelRole
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec


class UngraphedMixes:
    """Device seconds and kernels launched per part, for mixed iterations launched without graphs."""

    def __init__(self, model: ModelSpec, hw: HardwareProfile, strategy: DecodingStrategy,
                 execution: Execution, launch: LaunchModel, *, tokens: np.ndarray, rows: np.ndarray,
                 chunk: StepBatch, context_grid: np.ndarray, past_grid: np.ndarray, decode_table: np.ndarray):
        self._per_kernel_s = launch.ungraphed().host_per_kernel_s
        self._grid, self._past = context_grid, past_grid.tolist()

        def sums(step: StepBatch, part: str | None) -> tuple[np.ndarray, np.ndarray]:
            t = n = 0.0
            for _name, role, count, time_s, launched in kernel_times(model, hw, step, execution):
                if part is None or part_of(role) == part:
                    t = t + count * np.asarray(time_s, dtype=float)
                    n = n + count * np.asarray(launched, dtype=float)
            return np.array(t, dtype=float), np.array(n, dtype=float)

        self.token_t, self.token_n = sums(StepBatch(prefill_seqs=1, prefill_tokens=tokens), "token")
        self.row_t, self.row_n = sums(StepBatch(decode_seqs=rows, decode_context=1), "rows")
        for table in (self.token_t, self.token_n, self.row_t, self.row_n):
            table[0] = 0.0
        shape = (np.size(chunk.prefill_tokens), past_grid.size)
        t, n = sums(chunk, "prefill")
        # arrays, not lists: a million Python floats would triple the simulator's set-up memory
        self._chunk_t, self._chunk_n = np.broadcast_to(t, shape).copy(), np.broadcast_to(n, shape).copy()

        batches = np.arange(decode_table.shape[0], dtype=float)
        target = strategy.target_step(batches[:, None], context_grid[None, :])
        t, n = (np.broadcast_to(a, decode_table.shape).copy() for a in sums(target, None))
        t[0], n[0] = 0.0, 0.0
        graphed = np.asarray([launch.graphed(strategy.target_step(b, 1.0)) for b in batches])[:, None]
        wall = np.where(graphed, launch.graph_launch_s + t, np.maximum(t, self._per_kernel_s * n))
        self._target_t, self._target_n = list(t), list(n)
        #: The decode iteration less its target forward: draft forwards and host work per step.
        self._rest = list(decode_table - wall)

    def mixed(self, batch: int, mean_context: float, t_d: int, r_d: int,
              chunks: list[tuple[int, int]]) -> float:
        """Seconds of a decode batch plus prefill chunks launched without graphs (host work per
        chunk sequence left to the caller)."""
        grid = self._grid
        t = float(np.interp(mean_context, grid, self._target_t[batch]))
        n = float(np.interp(mean_context, grid, self._target_n[batch]))
        new = sum(c for c, _ in chunks)
        t += self.token_t[t_d + new] - self.token_t[t_d] + self.row_t[r_d + len(chunks)] - self.row_t[r_d]
        n += self.token_n[t_d + new] - self.token_n[t_d] + self.row_n[r_d + len(chunks)] - self.row_n[r_d]
        for tokens, past in chunks:
            j = min(max(bisect_right(self._past, past) - 1, 0), len(self._past) - 2)
            v = min(max((past - self._past[j]) / (self._past[j + 1] - self._past[j]), 0.0), 1.0)
            ct, cn = self._chunk_t[tokens - 1, j:j + 2], self._chunk_n[tokens - 1, j:j + 2]
            t += float((1 - v) * ct[0] + v * ct[1])
            n += float((1 - v) * cn[0] + v * cn[1])
        rest = float(np.interp(mean_context, grid, self._rest[batch]))
        return rest + max(t, self._per_kernel_s * n)


def part_of(role: KernelRole) -> str:
    """The cost table a kernel belongs to ('token', 'rows', 'decode', 'prefill'), from the role its
    layer kind gave it; anything that is not a KernelRole is an error, never priced per token."""
    if type(role) is not KernelRole:
        raise TypeError(f"kernel role {role!r} is not a perfsim.layers.KernelRole")
    return role.value
