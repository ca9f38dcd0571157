"""perfsim against the analytical peers that install from PyPI, timed on the same points in one
interleaved run, so the comparison is reproducible on any machine.

Run: python benchmarks/bench_vs_peers.py [--rounds 5] [--calls 200]
Peers: llm-analysis (`pip install llm-analysis`; not a perfsim dependency). A peer that is not
installed is named in one sentence and skipped; perfsim is timed regardless.

Two paths, Llama-3.1-8B on H100 SXM (bf16 weights and activations):
* scalar: one whole request per call (batch 1-256, prompt 64-1024, 256 output tokens), random
  points, fresh each round: `perfsim.generate` vs `LLMAnalysis.inference`.
* grid: decode steps over 64 batches x 64 contexts (4,096 points); perfsim prices the grid in one
  `evaluate_grid` call, a peer without a vectorised path point by point (a 256-point subset,
  its rate is per point).
Rounds alternate which tool runs first; printed are the median and min-max rates over rounds and
the ratio of the medians. Only speed is compared here (the peers model less: no tile/wave
quantisation, no launch costs), never the predicted numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import time
from collections.abc import Callable

import numpy as np

import perfsim

MODEL, HARDWARE, OUTPUT_LEN = "llama-3.1-8b", "h100-sxm", 256
GRID_BATCH, GRID_CONTEXT = np.arange(4, 257, 4), np.arange(256, 16385, 256)  # 64 x 64 points
PEER_GRID_POINTS = 256


def _llm_analysis() -> tuple[Callable, Callable] | None:
    """(request(batch, prompt), decode_step(batch, context)) through llm-analysis, or None."""
    try:
        from llm_analysis.analysis import LLMAnalysis
        from llm_analysis.config import ModelConfig, get_dtype_config_by_name, get_gpu_config_by_name
    except ImportError:
        print("llm-analysis is not installed (pip install llm-analysis), so perfsim is timed alone.")
        return None
    logging.getLogger("__name__").setLevel(logging.ERROR)  # the logger llm_analysis.analysis uses
    spec = perfsim.load_model(MODEL)
    attn, mlp = spec.operators["attn"], spec.operators["mlp"]
    config = ModelConfig(
        name=MODEL, num_layers=len(spec.sublayer_names) // 2, n_head=attn.num_heads,
        hidden_dim=spec.hidden_size, vocab_size=spec.vocab_size, max_seq_len=spec.max_context_len,
        num_key_value_heads=attn.num_kv_heads, ffn_embed_dim=mlp.intermediate_size,
        expansion_ratio=mlp.intermediate_size / spec.hidden_size, model_type="llama")
    gpu, dtypes = get_gpu_config_by_name("h100-sxm-80gb"), get_dtype_config_by_name("w16a16e16")
    analysis = LLMAnalysis(config, gpu, dtypes)

    def run(batch: int, seq_len: int, generate: int) -> dict:
        with contextlib.redirect_stdout(io.StringIO()):
            return analysis.inference(batch_size_per_gpu=batch, seq_len=seq_len,
                                      num_tokens_to_generate=generate)

    return (lambda b, p: run(b, p, OUTPUT_LEN)), (lambda b, c: run(b, c, 1))


def _rate(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    points = fn()
    return points / (time.perf_counter() - start)


def _row(label: str, ours: list[float], theirs: list[float] | None) -> None:
    ours_m = statistics.median(ours)
    line = f"  {label:<34}{ours_m:>12,.0f} ({min(ours):,.0f}-{max(ours):,.0f})"
    if theirs:
        peer = statistics.median(theirs)
        line += f"{peer:>12,.0f} ({min(theirs):,.0f}-{max(theirs):,.0f}){ours_m / peer:>9.1f}x"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    model, hw = perfsim.load_model(MODEL), perfsim.load_hardware(HARDWARE)
    peer = _llm_analysis()
    rng = np.random.default_rng(0)

    def points(n: int) -> list[tuple[int, int]]:
        return list(zip(rng.integers(1, 257, n).tolist(), rng.integers(64, 1025, n).tolist(), strict=True))

    def accepted(fn: Callable | None, pts: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The points the peer prices (llm-analysis refuses, by assertion, what it thinks does
        not fit in memory; both tools are timed on the points it accepts)."""
        if fn is None:
            return pts
        ok = []
        for b, p in pts:
            with contextlib.suppress(AssertionError):
                fn(b, p)
                ok.append((b, p))
        return ok

    grid = [(int(b), int(c)) for b in GRID_BATCH for c in GRID_CONTEXT]
    subset = accepted(peer and peer[1], [grid[i] for i in rng.permutation(len(grid))])[:PEER_GRID_POINTS]

    def ours_scalar(pts):
        for b, p in pts:
            perfsim.generate(model, hw, b, p, OUTPUT_LEN, check_memory=False)
        return len(pts)

    def ours_grid():
        perfsim.evaluate_grid([model], [hw], GRID_BATCH, GRID_CONTEXT)
        return len(grid)

    def peer_scalar(pts):
        for b, p in pts:
            peer[0](b, p)
        return len(pts)

    def peer_grid():
        for b, c in subset:
            peer[1](b, c)
        return len(subset)

    ours_scalar(points(args.calls))  # warm-up: YAML loaded, step plan built
    ours_grid()
    rates: dict[str, list[float]] = {"ours scalar": [], "ours grid": [], "peer scalar": [], "peer grid": []}
    for r in range(args.rounds):
        pts = accepted(peer and peer[0], points(2 * args.calls))[: args.calls]
        jobs = [("ours scalar", lambda pts=pts: ours_scalar(pts)), ("ours grid", ours_grid)]
        if peer is not None:
            jobs += [("peer scalar", lambda pts=pts: peer_scalar(pts)), ("peer grid", peer_grid)]
        for name, job in jobs if r % 2 == 0 else jobs[::-1]:
            rates[name].append(_rate(job))
    print(f"{MODEL} on {HARDWARE}, {args.rounds} interleaved rounds; median (min-max) per second")
    print(f"  {'path':<34}{'perfsim':>27}{'llm-analysis':>27}{'ratio':>10}")
    _row("request, fresh points each round", rates["ours scalar"], rates["peer scalar"] or None)
    _row(f"decode-step grid, {len(grid):,} points", rates["ours grid"], rates["peer grid"] or None)


if __name__ == "__main__":
    main()
