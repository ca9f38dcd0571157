"""The compiled step plan: what the predictor can reuse across calls for one (model, hardware,
execution), cached by identity of the frozen specs.

Scalar library calls (generate, decode_step, design-search loops) and sweeps price the same few
GEMMs at many token counts: a GEMM's time depends on its row count m through tile and wave
quantisation and nothing else varies with the workload, so each (n, k, dtypes, groups) GEMM gets
a table of device seconds by integer m, filled in blocks of `GEMM_BLOCK` rows by one vectorised
call of the same `Gemm.time` the reference path calls (so recalibrated kernel physics flows
through unchanged; numpy's elementwise arithmetic gives the same numbers in an array as on a
scalar). Other ops with scalar shapes are memoised by value (frozen dataclasses of shapes), and
whole scalar decode and prefill steps are read from tiles of kernel times by shape
(perfsim.cost.tables). Memory terms (the footprint, its max batch per context and max context
per batch) are memoised the same way. Parity with the reference path
(`perfsim.cost.step.*_reference`) is tested to 1e-9 relative.

Plans are cached on the identity of the model and hardware objects (frozen pydantic specs, which
`load_model`/`load_hardware` already return once per file) and the value of the Execution (a
frozen dataclass), the last lookup's three objects answered by identity alone; a new or edited
spec is a different object and gets its own plan. A spec that is not frozen, or an execution
that cannot be hashed, gets a fresh plan every call (slower, never stale).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from perfsim.checks import count
from perfsim.cost.graph import sublayer_sequence
from perfsim.cost.launch import LaunchModel
from perfsim.cost.memory import (
    Footprint,
    MemoryReport,
    kv_bytes_per_seq,
    memory,
    prefill_tokens,
    state_bytes_per_seq,
    weight_bytes,
)
from perfsim.cost.tables import StepTables
from perfsim.io.limits import MAX_BATCHED_TOKENS, MAX_TENSOR_PARALLEL
from perfsim.ops import Gemm, Op
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

#: Rows per lazily filled block of a GEMM table (one vectorised Gemm.time call each).
GEMM_BLOCK = 512
#: Largest m tabulated; beyond it (or for non-integer m) a GEMM is priced directly.
GEMM_TABLE_MAX_M = 1 << 20
#: GEMM table blocks one plan holds (4 KiB each) before it drops them all and starts afresh.
MAX_GEMM_BLOCKS = 4096
#: Plans kept (least recently used dropped first).
MAX_PLANS = 64
#: Memoised values per memo (max batch by context, max context by batch); cleared when full.
MAX_MEMO = 1 << 16


class StepPlan:
    """Reusable pricing state of one (model, hardware, execution)."""

    def __init__(self, model: ModelSpec, hw: HardwareProfile, execution: Execution):
        self.model, self.hw, self.execution = model, hw, execution
        self.launch = LaunchModel.of(hw, execution)
        self.sequence = sublayer_sequence(model)
        self.counts = {g: self.sequence.count(g) for g in dict.fromkeys(self.sequence)}
        self._gemm_blocks: dict[tuple, dict[int, np.ndarray]] = {}
        self._blocks_held = 0
        self._op_times: dict[Op, object] = {}
        self._footprints: dict[tuple, tuple[object, Footprint]] = {}
        self._max_batch: dict[tuple, int] = {}
        self._max_context: dict[tuple, int] = {}
        self.tables = StepTables(self)

    # ---- kernels -------------------------------------------------------------------------
    def op_time(self, op: Op):
        """Device seconds of `op` on this plan's hardware: a GEMM from its m table when it can,
        another op with scalar shapes memoised by its value (ops are frozen dataclasses)."""
        if type(op) is Gemm:
            t = self._gemm_time(op)
            if t is not None:
                return t
        try:
            t = self._op_times.get(op)
        except TypeError:  # array shapes: unhashable, priced directly
            return op.time(self.hw)
        if t is None:
            if len(self._op_times) >= MAX_MEMO:
                self._op_times.clear()
            t = self._op_times[op] = op.time(self.hw)
        return t

    def price_all(self, ops: list[Op]) -> list:
        """`op_time` of each op. A GEMM with scalar shapes and an integer m is read from its m
        table; the blocks a step misses are filled together, in one vectorised Gemm.time call
        per dtype pair (a step's projections share m, not n or k)."""
        self._bound_tables()
        out: list = [None] * len(ops)
        misses: dict[tuple, list[tuple[int, tuple, int, int]]] = {}
        for i, op in enumerate(ops):
            if isinstance(op, Gemm) and type(op) is Gemm and not (  # scalar shapes (arrays: op_time)
                    isinstance(op.m, np.ndarray) or isinstance(op.n, np.ndarray)
                    or isinstance(op.k, np.ndarray) or isinstance(op.groups, np.ndarray)):
                m = float(op.m)
                if 0 <= m < GEMM_TABLE_MAX_M and m == int(m):
                    key = (float(op.n), float(op.k), op.dtype, op.weight_dtype, float(op.groups))
                    row = int(m)
                    blocks = self._gemm_blocks.get(key)
                    block = None if blocks is None else blocks.get(row // GEMM_BLOCK)
                    if block is None:
                        miss = (i, key, row // GEMM_BLOCK, row)
                        misses.setdefault((op.dtype, op.weight_dtype), []).append(miss)
                    else:
                        out[i] = block[row % GEMM_BLOCK]
                    continue
            out[i] = self.op_time(op)
        for (dtype, weight_dtype), rows in misses.items():
            wanted = list(dict.fromkeys((key, b) for _, key, b, _ in rows))
            filled = self._fill_many(dtype, weight_dtype, wanted)
            for i, key, b, row in rows:
                out[i] = filled[(key, b)][row % GEMM_BLOCK]
        return out

    def _bound_tables(self) -> None:
        """Bounded memory: past MAX_GEMM_BLOCKS the tables start afresh (before a call, never
        while it reads them)."""
        if self._blocks_held > MAX_GEMM_BLOCKS:
            self._gemm_blocks.clear()
            self._blocks_held = 0

    def _fill_many(self, dtype: str, weight_dtype: str | None, wanted: list[tuple[tuple, int]]) -> dict:
        """Price the m blocks `wanted` ((n, k, dtype, weight dtype, groups), block index) in one call."""
        base = np.arange(GEMM_BLOCK, dtype=float)
        m = np.concatenate([base + b * GEMM_BLOCK for _, b in wanted])
        n, k, groups = (np.repeat([key[j] for key, _ in wanted], GEMM_BLOCK) for j in (0, 1, 4))
        times = np.broadcast_to(Gemm(m, n, k, dtype, weight_dtype, groups).time(self.hw), m.shape)
        self._blocks_held += len(wanted)
        filled = {}
        for j, (key, b) in enumerate(wanted):
            block = filled[(key, b)] = times[j * GEMM_BLOCK : (j + 1) * GEMM_BLOCK].copy()
            self._gemm_blocks.setdefault(key, {})[b] = block
        return filled

    def _gemm_time(self, op: Gemm):
        if np.ndim(op.n) or np.ndim(op.k) or np.ndim(op.groups):
            return None
        key = (float(op.n), float(op.k), op.dtype, op.weight_dtype, float(op.groups))
        if np.ndim(op.m) == 0:  # scalars: price_all reads them from the same blocks
            return None
        self._bound_tables()
        blocks = self._gemm_blocks.get(key, {})
        rows = np.asarray(op.m, dtype=float)
        unique, inverse = np.unique(rows, return_inverse=True)
        ints = unique.astype(np.int64)
        tabulable = (
            unique.size and unique[0] >= 0 and unique[-1] < GEMM_TABLE_MAX_M and bool(np.all(ints == unique))
        )
        if not tabulable:
            return None
        index = ints // GEMM_BLOCK
        needed = np.unique(index)
        if needed.size * GEMM_BLOCK > 8 * unique.size + GEMM_BLOCK:  # sparse: price the rows only
            values = np.asarray(replace(op, m=unique).time(self.hw), dtype=float)
        else:
            missing = [(key, b) for b in needed.tolist() if b not in blocks]
            if missing:
                self._fill_many(op.dtype, op.weight_dtype, missing)
                blocks = self._gemm_blocks[key]
            values = np.empty(unique.size)
            for b in needed.tolist():
                sel = index == b
                values[sel] = blocks[b][ints[sel] - b * GEMM_BLOCK]
        return values[inverse].reshape(rows.shape)

    # ---- memory --------------------------------------------------------------------------
    def footprint(self, tp: int, draft: ModelSpec | None, shared: float) -> Footprint:
        """The memory footprint of this model (and drafter) at `tp`, built once per drafter object."""
        key = (tp, id(draft), shared)
        hit = self._footprints.get(key)
        if hit is not None and hit[0] is draft:
            return hit[1]
        foot = Footprint.of(self.model, self.hw, tp, draft, shared)
        if len(self._footprints) >= MAX_PLANS:  # drafters built afresh per call: keep few
            self._footprints.clear()
        self._footprints[key] = (draft, foot)
        return foot

    def max_batch(self, foot: Footprint, context: int, chunk: int | None) -> int:
        return _memo(self._max_batch, (foot, context, chunk), lambda: int(foot.max_batch(context, chunk)))

    def max_context(self, foot: Footprint, batch: int, chunk: int | None) -> int:
        return _memo(self._max_context, (foot, batch, chunk),
                     lambda: foot.max_context(batch, self.model.max_context_len, chunk))

    def memory(self, batch: int, context_len: int, *, tensor_parallel: int = 1,
               prefill_chunk_tokens: int | None = None, draft: ModelSpec | None = None,
               draft_shared_params: float = 0.0) -> MemoryReport:
        """`perfsim.cost.memory.memory` from the memoised footprint and limits (equal to it; out of
        range input goes to memory() itself for its message)."""
        chunk = prefill_chunk_tokens
        count("tensor_parallel", tensor_parallel, MAX_TENSOR_PARALLEL)
        if chunk is not None:
            count("prefill_chunk_tokens", chunk, MAX_BATCHED_TOKENS)
        if batch < 1 or not 1 <= context_len <= self.model.max_context_len:
            return memory(self.model, self.hw, batch, context_len, tensor_parallel=tensor_parallel,
                          prefill_chunk_tokens=chunk, draft=draft, draft_shared_params=draft_shared_params)
        tp = tensor_parallel
        foot = self.footprint(tp, draft, draft_shared_params)
        step_tokens = prefill_tokens(batch, context_len, chunk)
        kv, state, act = foot.parts(batch, context_len, step_tokens)
        total = float(foot.total_bytes(batch, context_len, step_tokens))
        return MemoryReport(
            weights_bytes=foot.weights_bytes,
            kv_cache_bytes=float(kv),
            state_bytes=float(state),
            activation_bytes=float(act),
            reserved_bytes=foot.reserved_bytes,
            total_bytes=total,
            usable_bytes=foot.usable_bytes,
            fits=total <= foot.usable_bytes,
            max_batch=self.max_batch(foot, context_len, chunk),
            max_context_len=self.max_context(foot, batch, chunk),
            kv_bytes_per_token=float(foot.kv_bytes_per_seq(1)),
            state_bytes_per_seq=foot.state_bytes_per_seq,
            draft_bytes=(
                foot.weights_bytes
                - weight_bytes(self.model, tp)
                + batch * (kv_bytes_per_seq(draft, context_len, tp) + state_bytes_per_seq(draft, tp))
                if draft
                else 0.0
            ),
        )


class PlanCache:
    """Least-recently-used plans keyed by (model object, hardware object, execution value).
    Entries hold weak references and are checked on lookup, so a recycled object id never
    returns another spec's plan."""

    def __init__(self, size: int = MAX_PLANS):
        self.size = size
        self._plans: OrderedDict[tuple, tuple[weakref.ref, weakref.ref, StepPlan]] = OrderedDict()
        self._last: tuple = (None, None, None, None)

    def get(self, model: ModelSpec, hw: HardwareProfile, execution: Execution) -> StepPlan:
        """The cached plan, or a fresh uncached one for inputs that could change under it (a spec
        that is not a frozen model, an unhashable execution)."""
        last = self._last
        if last[0] is model and last[1] is hw and last[2] is execution:
            return last[3]
        if not (_frozen(model) and _frozen(hw)):
            return StepPlan(model, hw, execution)
        key = (id(model), id(hw), execution)
        try:
            hit = self._plans.get(key)
        except TypeError:
            return StepPlan(model, hw, execution)
        if hit is not None and hit[0]() is model and hit[1]() is hw:
            self._plans.move_to_end(key)
        else:
            hit = self._plans[key] = (weakref.ref(model), weakref.ref(hw), StepPlan(model, hw, execution))
            if len(self._plans) > self.size:
                self._plans.popitem(last=False)
        self._last = (model, hw, execution, hit[2])
        return hit[2]

    def clear(self) -> None:
        self._plans.clear()
        self._last = (None, None, None, None)


def _memo(table: dict, key: tuple, compute: Callable[[], int]) -> int:
    """table[key], computed on a miss; the table is emptied when it reaches MAX_MEMO entries."""
    value = table.get(key)
    if value is None:
        if len(table) >= MAX_MEMO:
            table.clear()
        value = table[key] = compute()
    return value


def _frozen(spec: object) -> bool:
    return bool(getattr(type(spec), "model_config", {}).get("frozen", False))


#: The process's plans (like load_model's lru_cache: pure values derived from frozen inputs).
PLANS = PlanCache()


#: The default Execution, built once (each construction validates every field).
DEFAULT_EXECUTION = Execution()


def step_plan(model: ModelSpec, hw: HardwareProfile, execution: Execution | None = None) -> StepPlan:
    """The cached plan of (model, hw, execution)."""
    return PLANS.get(model, hw, execution or DEFAULT_EXECUTION)
