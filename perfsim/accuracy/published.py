"""Published accuracy as data: scores on a small set of named benchmarks, training tokens and the
mean output length of reasoning models, each row with its source (perfsim/accuracy/data/*.yaml).

Why a table and not the model YAMLs: a frontier's accuracy axis must be one benchmark evaluated
one way (shots, base or chat checkpoint), and a table keyed by (model, benchmark) lets a test
check that every bundled model either has a published score there or is drawn as a proxy.
`evidence` says whether a number was read in a source during gathering ("read") or written from
the named source by memory and still to be checked against it ("recalled").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from perfsim.io.safe_yaml import parse_yaml, read_text, strictly
from perfsim.spec.base import _Strict

DATA_DIR = Path(__file__).with_name("data")
SCORES_FILE = DATA_DIR / "published_scores.yaml"
PROXY_FILE = DATA_DIR / "score_proxy.yaml"

Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Evidence = Literal["read", "recalled"]


class Source(_Strict):
    url: str = Field(min_length=1)
    note: str = ""


class Benchmark(_Strict):
    """One named evaluation: the task, its shot count and which checkpoint is scored."""

    display_name: str
    shots: int = Field(ge=0)
    checkpoint: Literal["base", "instruct", "reasoning"]
    #: Score of random guessing (25 for four-way multiple choice): the proxy's floor.
    chance_percent: float = Field(default=0.0, ge=0, lt=100, allow_inf_nan=False)
    note: str = ""


class Score(_Strict):
    model: str
    benchmark: str
    score: Percent
    #: The released checkpoint that was evaluated (a base model's id when `checkpoint: base`).
    checkpoint: str
    source: Source
    evidence: Evidence


class TrainingTokens(_Strict):
    model: str
    tokens: float = Field(gt=0, allow_inf_nan=False)
    source: Source
    evidence: Evidence


class OutputLength(_Strict):
    """Mean generated tokens per request of a reasoning model on one benchmark (request-level
    efficiency: requests/s = tokens/s / this)."""

    model: str
    benchmark: str
    mean_output_tokens: float = Field(gt=0, allow_inf_nan=False)
    source: Source
    evidence: Evidence


class PublishedScores(_Strict):
    schema_version: Literal[1] = 1
    #: The benchmark the frontier's accuracy axis is on unless the caller names another.
    default_benchmark: str
    benchmarks: dict[str, Benchmark]
    scores: list[Score]
    training_tokens: list[TrainingTokens] = Field(default_factory=list)
    output_lengths: list[OutputLength] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PublishedScores:
        names = set(self.benchmarks)
        if self.default_benchmark not in names:
            raise ValueError(f"default_benchmark {self.default_benchmark!r} is not in benchmarks")
        seen: set[tuple[str, str]] = set()
        for row in self.scores:
            if row.benchmark not in names:
                raise ValueError(f"score of {row.model}: unknown benchmark {row.benchmark!r}; "
                                 f"allowed: {', '.join(sorted(names))}")
            if (row.model, row.benchmark) in seen:
                raise ValueError(f"score of {row.model} on {row.benchmark} is given twice")
            seen.add((row.model, row.benchmark))
        models = [t.model for t in self.training_tokens]
        if len(models) != len(set(models)):
            raise ValueError("training_tokens lists a model twice")
        return self

    def score(self, model_id: str, benchmark: str) -> Score | None:
        return next((r for r in self.scores if r.model == model_id and r.benchmark == benchmark), None)

    def tokens(self, model_id: str) -> float | None:
        return next((t.tokens for t in self.training_tokens if t.model == model_id), None)

    def output_tokens(self, model_id: str, benchmark: str) -> float | None:
        return next((r.mean_output_tokens for r in self.output_lengths
                     if r.model == model_id and r.benchmark == benchmark), None)


class Proxy(_Strict):
    """score = 100 * sigmoid(a - b * loss) for one benchmark, with its leave-one-out error."""

    a: float = Field(allow_inf_nan=False)
    b: float = Field(allow_inf_nan=False)
    loo_rmse_points: float = Field(ge=0, allow_inf_nan=False)
    loo_mae_points: float = Field(ge=0, allow_inf_nan=False)
    fitted_on: list[str] = Field(min_length=2)


class ScoreProxies(_Strict):
    schema_version: Literal[1] = 1
    fitted_by: str
    proxies: dict[str, Proxy]


@lru_cache(maxsize=8)
def load_published_scores(path: str | None = None) -> PublishedScores:
    """The bundled table (or the YAML at `path`), validated once; bad input is one sentence."""
    source = str(path or SCORES_FILE)
    return strictly(PublishedScores, source, parse_yaml(source, read_text(source, "accuracy table")))


@lru_cache(maxsize=8)
def load_score_proxies(path: str | None = None) -> ScoreProxies:
    """The fitted loss -> score mappings (written by benchmarks/fit_score_proxy.py)."""
    source = str(path or PROXY_FILE)
    return strictly(ScoreProxies, source, parse_yaml(source, read_text(source, "score proxy")))


__all__ = ["Benchmark", "OutputLength", "Proxy", "PublishedScores", "Score", "ScoreProxies",
           "TrainingTokens", "load_published_scores", "load_score_proxies"]
