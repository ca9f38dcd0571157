"""Kernel times by shape, in tiles: how a step plan (perfsim.cost.plan) prices a scalar decode or
prefill step with table reads instead of building and pricing its kernels.

A decode step's kernels split by what they depend on: most (projections, MLP, norms, lm_head)
on the batch alone, the attention-like ones also on the cached context. Which is which is found
once per plan, exactly, by building the step with the context as an array: a kernel whose op
holds an array depends on it. The batch-only kernels are tabulated by batch, the others by
(batch, context) in tiles; a prefill step's kernels by (sequences, tokens). A table entry is the
layer-count-weighted sum over one such group of kernels of (device seconds, FLOPs, bytes, kernels
launched), filled by one vectorised build and pricing of the same ops the step would build
(GEMMs through the plan's m tables), so each point's value is the op code's own. A call adds the
groups and applies the launch model and host costs (perfsim.cost.launch) itself. A step priced
kernel by kernel is summed in the same order (`StepTables.compose`), so whether a step came
from a table never changes a bit of the result.

Filling a tile costs from a few to a few dozen direct pricings of one step, so tiles are rented
before they are bought: a step whose tile is missing is priced directly and its cost is charged
to that tile, which is filled once its charges reach `RENT_SHARE` of what filling a tile of its
kind last cost (the first of each kind after `FILL_AFTER` asks). Points scattered over a large
space then cost at most about (1 + 1/RENT_SHARE) times the direct price; repeated regions become
table reads. Steps with a prefix (prefill past), mixed decode and prefill, non-integer or array
batch shapes, and eager launch on a GPU (where kernel order matters) are not tabulated.
"""

from __future__ import annotations

import time
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from perfsim.cost.graph import StepBatch, build_step

#: Batches per block of the decode batch-only table.
DENSE_BLOCK = 512
#: Tile of decode (batch, context) and prefill (sequences, tokens) points.
DECODE_TILE = (16, 256)
PREFILL_TILE = (16, 128)
#: Rent or buy: a tile is filled once the direct pricings charged to it cost this share of a fill
#: of its kind; the first tile of a kind (fill cost unknown) after this many asks.
RENT_SHARE = 0.25
FILL_AFTER = 3
#: Bytes of tiles a plan holds before it drops them all; requests counted before the counts reset.
MAX_TILE_BYTES = 32 << 20
MAX_ASKED = 1 << 16
#: Largest coordinate tabulated (beyond it steps are priced directly).
MAX_COORD = 1 << 24


def _whole(x) -> int | None:
    """`x` as a non-negative int when it is a whole number below MAX_COORD, else None."""
    if type(x) is int:
        return x if 0 <= x < MAX_COORD else None
    if isinstance(x, np.ndarray) and x.ndim:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return int(v) if v.is_integer() and 0 <= v < MAX_COORD else None


def _zero(x) -> bool:
    """Whether `x` is a scalar zero (an array is never one here)."""
    return (not isinstance(x, np.ndarray) or x.ndim == 0) and bool(x == 0)


class StepTables:
    """The tiles of one plan (its model, hardware and execution)."""

    def __init__(self, plan: Any):  # a perfsim.cost.plan.StepPlan (which imports this module)
        self.plan = plan
        launch = plan.launch
        self.usable = launch.cuda_graphs or plan.hw.host_is_device
        self._context_mask: dict[tuple, list[bool]] = {}
        self._tiles: dict[tuple, np.ndarray] = {}
        self._bytes_held = 0
        self._asked: dict[tuple, int] = {}
        self._charged: dict[tuple, float] = {}
        self._fill_s: dict[str, float] = {}
        self._pending: list[tuple] = []
        self._fillable = self.usable

    # ---- public reads ----------------------------------------------------------------------
    def scalar(self, s: StepBatch) -> tuple[float, float, float, float] | None:
        """(device seconds, FLOPs, bytes, kernels launched) of scalar step `s`, or None when the
        step is not tabulated (or its tile is not filled yet)."""
        self._pending.clear()
        if not self.usable or not _zero(s.prefill_past):
            return None
        q, causal = _whole(s.decode_tokens), s.prefill_causal
        if q is None:
            return None
        if _zero(s.prefill_seqs) and _zero(s.prefill_tokens):
            b, c = _whole(s.decode_seqs), _whole(s.decode_context)
            if b is None or c is None:
                return None
            tb, tc = DECODE_TILE
            tile = self._tile(("c", q, causal, b // tb, c // tc))
            dense = self._tile(("d", q, causal, b // DENSE_BLOCK))  # asked either way: both rented
            if tile is None or dense is None:
                return None
            i, j = b % tb, c % tc
            k = b % DENSE_BLOCK
            return (float(dense[0, k] + tile[0, i, j]), float(dense[1, k] + tile[1, i, j]),
                    float(dense[2, k] + tile[2, i, j]), float(dense[3, k] + tile[3, i, j]))
        if _zero(s.decode_seqs) and _zero(s.decode_context):
            n, p = _whole(s.prefill_seqs), _whole(s.prefill_tokens)
            if n is None or p is None:
                return None
            tn, tp = PREFILL_TILE
            tile = self._tile(("p", q, causal, n // tn, p // tp))
            if tile is None:
                return None
            i, j = n % tn, p % tp
            return float(tile[0, i, j]), float(tile[1, i, j]), float(tile[2, i, j]), float(tile[3, i, j])
        return None

    def decode_contexts(self, s: StepBatch) -> tuple[np.ndarray, np.ndarray] | None:
        """(device seconds, kernels launched) of decode steps with one scalar batch over a 1-D
        array of contexts (a request's decode iterations), or None when not tabulated."""
        self._pending.clear()
        if not (self.usable and _zero(s.prefill_seqs) and _zero(s.prefill_tokens) and _zero(s.prefill_past)):
            return None
        b, q, context = _whole(s.decode_seqs), _whole(s.decode_tokens), s.decode_context
        if b is None or q is None or not isinstance(context, np.ndarray) or context.ndim != 1 \
                or not context.size or context.size > 1 << 16:
            return None
        tb, tc = DECODE_TILE
        first, last = float(context[0]), float(context[-1])
        if first.is_integer() and last - first == context.size - 1 and 0 <= first and last < MAX_COORD \
                and bool((np.diff(context) == 1).all()):  # a run of contexts (a request's decode)
            c0, c1 = int(first), int(last)
            wanted = list(range(c0 // tc, c1 // tc + 1))
            spans = [(max(c0 - ci * tc, 0), min(c1 + 1 - ci * tc, tc)) for ci in wanted]
            index = None
        else:
            c = context.astype(np.int64)
            if not (np.array_equal(c, context) and c.min() >= 0 and c.max() < MAX_COORD):
                return None
            wanted, spans = sorted(set((c // tc).tolist())), []
            index = np.searchsorted(wanted, c // tc) * tc + c % tc
        tiles = [self._tile(("c", q, s.prefill_causal, b // tb, ci)) for ci in wanted]
        dense = self._tile(("d", q, s.prefill_causal, b // DENSE_BLOCK))
        if dense is None or any(t is None for t in tiles):
            return None
        k, i = b % DENSE_BLOCK, b % tb
        filled = [t for t in tiles if t is not None]
        rows = [t[:, i, lo:hi] for t, (lo, hi) in zip(filled, spans, strict=True)] if index is None else \
            [t[:, i, :] for t in filled]
        values = rows[0] if len(rows) == 1 else np.concatenate(rows, axis=1)
        if index is not None:
            values = values[:, index]
        return dense[0, k] + values[0], dense[3, k] + values[3]

    # ---- the summation order both paths share --------------------------------------------
    def split(self, s: StepBatch) -> list[bool] | None:
        """For a decode step (prefill fields zero, a whole number of tokens per sequence): per
        kernel, whether it depends on the context; None for other steps."""
        if not (_zero(s.prefill_seqs) and _zero(s.prefill_tokens) and _zero(s.prefill_past)):
            return None
        q = _whole(s.decode_tokens)
        return None if q is None else self._mask(q, s.prefill_causal)

    def compose(self, timed: dict, s: StepBatch, costs: bool = True) -> tuple:
        """(device seconds, FLOPs, bytes, kernels launched) of priced kernels `timed` (as
        perfsim.cost.step.timed_kernels returns them) summed in the order the tables sum: each
        kernel's value times its layer count, accumulated in kernel order, the context-independent
        kernels of a decode step apart from the others. So a step reads the same bits from a
        table as priced directly. Without `costs`, FLOPs and bytes are None."""
        mask = self.split(s)
        counts = self.plan.counts
        sums: list[list] = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
        index = 0
        for sub, rows in timed.items():
            n = counts[sub]
            for _name, op, t, launched in rows:
                acc = sums[1 if mask is not None and mask[index] else 0]
                index += 1
                acc[0] = acc[0] + t * n
                acc[3] = acc[3] + launched * n
                if costs and (not isinstance(t, float) or t > 0):
                    cost = op.cost()
                    if isinstance(t, float):
                        acc[1] = acc[1] + float(cost.flops) * n
                        acc[2] = acc[2] + float(cost.bytes) * n
                    else:
                        acc[1] = acc[1] + np.where(t > 0, cost.flops, 0.0) * n
                        acc[2] = acc[2] + np.where(t > 0, cost.bytes, 0.0) * n
        dense, context = sums
        if mask is None:
            return dense[0], dense[1] if costs else None, dense[2] if costs else None, dense[3]
        return (dense[0] + context[0], dense[1] + context[1] if costs else None,
                dense[2] + context[2] if costs else None, dense[3] + context[3])

    # ---- tiles -------------------------------------------------------------------------------
    def _tile(self, key: tuple) -> np.ndarray | None:
        tile = self._tiles.get(key)
        if tile is not None or not self._fillable:
            return tile
        fill_s = self._fill_s.get(key[0])
        if fill_s is None:
            asked = self._asked.get(key, 0) + 1
            buy = asked >= FILL_AFTER
        else:
            buy = self._charged.get(key, 0.0) >= RENT_SHARE * fill_s
        if not buy:
            if fill_s is None:
                if len(self._asked) >= MAX_ASKED:
                    self._asked.clear()
                self._asked[key] = asked
            self._pending.append(key)
            return None
        self._asked.pop(key, None)
        self._charged.pop(key, None)
        start = time.perf_counter()
        try:
            tile = self._fill(key)
        except Exception:  # noqa: BLE001 (a step the tiles cannot build: priced directly, which says why)
            self._fillable = False
            return None
        self._fill_s[key[0]] = time.perf_counter() - start
        if self._bytes_held + tile.nbytes > MAX_TILE_BYTES:
            self._tiles.clear()
            self._bytes_held = 0
        self._tiles[key] = tile
        self._bytes_held += tile.nbytes
        return tile

    def charge(self, seconds: float) -> None:
        """Charge `seconds` of direct pricing to the tiles the last declined read was missing."""
        pending = self._pending
        if pending:
            share = seconds / len(pending)
            if len(self._charged) >= MAX_ASKED:
                self._charged.clear()
            for key in pending:
                self._charged[key] = self._charged.get(key, 0.0) + share
            pending.clear()

    def _fill(self, key: tuple) -> np.ndarray:
        kind, q, causal, bi, ci = (*key, None)[:5]
        if kind == "d":
            b = np.arange(bi * DENSE_BLOCK, (bi + 1) * DENSE_BLOCK, dtype=float)
            step = StepBatch(decode_seqs=b, decode_context=0, decode_tokens=q, prefill_causal=causal)
            return self._sums(step, b.shape, [not m for m in self._mask(q, causal)])
        if kind == "c":
            (tb, tc), mask = DECODE_TILE, self._mask(q, causal)
            b = np.arange(bi * tb, (bi + 1) * tb, dtype=float)[:, None]
            c = np.arange(ci * tc, (ci + 1) * tc, dtype=float)[None, :]
            step = StepBatch(decode_seqs=b, decode_context=c, decode_tokens=q, prefill_causal=causal)
            return self._sums(step, (tb, tc), mask)
        tn, tp = PREFILL_TILE
        n = np.arange(bi * tn, (bi + 1) * tn, dtype=float)[:, None]
        p = np.arange(ci * tp, (ci + 1) * tp, dtype=float)[None, :]
        step = StepBatch(decode_tokens=q, prefill_seqs=n, prefill_tokens=p, prefill_causal=causal)
        return self._sums(step, (tn, tp), None)

    def _sums(self, step: StepBatch, shape: tuple, include: list[bool] | None) -> np.ndarray:
        """(4, *shape): count-weighted sums of (time, FLOPs, bytes, launched) over the kernels
        selected by `include` (all when None), priced as timed_kernels and evaluate_step do."""
        plan = self.plan
        groups = build_step(plan.model, step, plan.execution)
        kernels = [(k.op, plan.counts[g.sublayer]) for g in groups for k in g.kernels]
        if include is None:
            include = [True] * len(kernels)
        chosen = [(op, n) for (op, n), keep in zip(kernels, include, strict=True) if keep]
        times = plan.price_all([op for op, _ in chosen])
        out = np.zeros((4, *shape))
        for (op, n), t in zip(chosen, times, strict=True):
            t = np.broadcast_to(np.asarray(t, dtype=float), shape)
            on = t > 0
            cost = op.cost()
            out[0] += t * n
            out[1] += np.where(on, np.broadcast_to(np.asarray(cost.flops, dtype=float), shape), 0.0) * n
            out[2] += np.where(on, np.broadcast_to(np.asarray(cost.bytes, dtype=float), shape), 0.0) * n
            out[3] += np.where(on, op.kernel_count, 0) * n
        return out

    def _mask(self, q: int, causal: bool) -> list[bool]:
        """Per kernel of a decode step: whether its op depends on the decode context (it holds
        an array when the context is one)."""
        key = (q, causal)
        mask = self._context_mask.get(key)
        if mask is None:
            probe = StepBatch(decode_seqs=1, decode_context=np.array([1.0, 2.0]), decode_tokens=q,
                              prefill_causal=causal)
            groups = build_step(self.plan.model, probe, self.plan.execution)
            mask = self._context_mask[key] = [_holds_array(k.op) for g in groups for k in g.kernels]
        return mask


def _holds_array(op: object) -> bool:
    if not is_dataclass(op):
        return True  # unknown structure: treat as context-dependent (tabulated by context, exact)
    return any(np.ndim(getattr(op, f.name)) > 0 or is_dataclass(getattr(op, f.name)) for f in fields(op))
