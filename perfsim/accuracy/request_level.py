"""Request-level efficiency of reasoning models: what a user pays per answered problem.

Per-token rates mislead when models write traces of different length (gpt-oss-puzzle, arXiv
2602.11937: "a 2x throughput gain is erased if traces grow 2x"; DLER, arXiv 2510.15110, cuts
traces by ~70 %). So each model runs at its own published mean output length on the benchmark
(perfsim/accuracy/data/published_scores.yaml), at the largest batch that fits that length, and
requests/s = tokens/s / tokens per request. A shorter trace also holds less KV per sequence, so
more sequences fit: the request-level gain can exceed the length ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.accuracy.published import load_published_scores
from perfsim.errors import PerfsimInputError


@dataclass(frozen=True, slots=True)
class RequestRate:
    model: str
    benchmark: str
    mean_output_tokens: float
    #: Published score on the benchmark (NaN when only the length is published).
    accuracy: float
    batch: int
    tokens_per_s: float

    @property
    def requests_per_s(self) -> float:
        return self.tokens_per_s / self.mean_output_tokens


def published_request_rate(model, hw, benchmark: str, *, prompt_len: int = 256, runtime=None,
                           execution=None) -> RequestRate:
    """Requests/s of `model` on `hw` answering `benchmark` with its published mean trace length,
    at the largest batch that fits (capped by the runtime's max running sequences)."""
    from perfsim.cost.max_batch import max_batch_throughput
    from perfsim.io.load import load_hardware, load_model

    model, hw = load_model(model), load_hardware(hw)
    table = load_published_scores()
    tokens = table.output_tokens(model.id, benchmark)
    if tokens is None:
        known = sorted({r.benchmark for r in table.output_lengths if r.model == model.id})
        raise PerfsimInputError(f"no published mean output length of {model.id} on {benchmark!r} "
                                f"(published for it: {', '.join(known) or 'none'}).")
    peak = max_batch_throughput(model, hw, prompt_len, round(tokens), runtime=runtime, execution=execution)
    score = table.score(model.id, benchmark)
    return RequestRate(model=model.id, benchmark=benchmark, mean_output_tokens=tokens,
                       accuracy=float("nan") if score is None else score.score, batch=peak.batch,
                       tokens_per_s=peak.result.tokens_per_s)


__all__ = ["RequestRate", "published_request_rate"]
