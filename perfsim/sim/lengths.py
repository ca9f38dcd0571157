"""Token-length distributions for prompts and outputs: fixed, uniform, lognormal, empirical.

Lengths are integers >= 1. Bounds are part of the distribution the user writes down (a lognormal
needs a `max_tokens`), so nothing is clamped behind the user's back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_SIZE


class LengthDist:
    """Samples integer token counts; `max_tokens` bounds what a sample can be (for memory checks)."""

    if TYPE_CHECKING:
        # A read-only property here: subclasses derive it or (LogNormal) hold it as a field.
        @property
        def max_tokens(self) -> int: ...

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(LengthDist):
    tokens: int

    def __post_init__(self) -> None:
        _positive("tokens", self.tokens)

    @property
    def max_tokens(self) -> int:
        return self.tokens

    def sample(self, rng, size):
        return np.full(size, self.tokens, dtype=np.int64)

    def mean(self) -> float:
        return float(self.tokens)


@dataclass(frozen=True)
class Uniform(LengthDist):
    """Integers uniform on [low, high], both included."""

    low: int
    high: int

    def __post_init__(self) -> None:
        _positive("low", self.low)
        _positive("high", self.high)
        if self.high < self.low:
            raise PerfsimInputError(f"uniform lengths need low <= high (got {self.low}, {self.high}).")

    @property
    def max_tokens(self) -> int:
        return self.high

    def sample(self, rng, size):
        return rng.integers(self.low, self.high + 1, size=size, dtype=np.int64)

    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class LogNormal(LengthDist):
    """Lognormal with the given mean and sigma (of the underlying normal), rounded, and redrawn
    outside [min_tokens, max_tokens] (truncated, so the tails stay inside the stated range)."""

    mean_tokens: float
    sigma: float
    max_tokens: int
    min_tokens: int = 1

    def __post_init__(self) -> None:
        _positive("min_tokens", self.min_tokens)
        _positive("max_tokens", self.max_tokens)
        if not self.min_tokens <= self.mean_tokens <= self.max_tokens:
            raise PerfsimInputError(f"lognormal mean_tokens {self.mean_tokens} must lie in "
                                    f"min_tokens..max_tokens ({self.min_tokens}..{self.max_tokens}).")
        if not 0 < self.sigma <= 3:
            raise PerfsimInputError(f"lognormal sigma must be in (0, 3] (got {self.sigma}).")

    def sample(self, rng, size):
        mu = np.log(self.mean_tokens) - self.sigma**2 / 2
        out = np.empty(size, dtype=np.int64)
        todo = np.arange(size)
        for _ in range(100):
            draw = np.rint(rng.lognormal(mu, self.sigma, size=todo.size)).astype(np.int64)
            ok = (draw >= self.min_tokens) & (draw <= self.max_tokens)
            out[todo[ok]] = draw[ok]
            todo = todo[~ok]
            if not todo.size:
                return out
        raise PerfsimInputError(f"lognormal(mean {self.mean_tokens}, sigma {self.sigma}) rarely falls in "
                                f"{self.min_tokens}..{self.max_tokens}; widen the range.")

    def mean(self) -> float:
        return float(self.mean_tokens)  # before truncation; exact when the range covers the bulk


@dataclass(frozen=True)
class Empirical(LengthDist):
    """Resample measured lengths (e.g. output lengths of a reasoning model at one effort level)."""

    values: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.values or min(self.values) < 1 or max(self.values) > MAX_SIZE:
            raise PerfsimInputError(f"empirical lengths need at least one value, all >= 1 and at most "
                                    f"{MAX_SIZE:,}.")

    @classmethod
    def from_file(cls, path: str | os.PathLike, column: str | None = None) -> Empirical:
        """One integer per line, or a CSV column."""
        path = Path(path)
        if not path.is_file():
            raise PerfsimInputError(f"{path}: length file not found.")
        import pandas as pd

        if column is None:
            raw = pd.Series(path.read_text().split(), dtype=object)
        else:
            frame = pd.read_csv(path)
            if column not in frame:
                raise PerfsimInputError(f"{path}: no column {column!r}; "
                                        f"columns: {', '.join(map(str, frame.columns))}.")
            raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            what = f"column {column!r}" if column else "one integer per line"
            raise PerfsimInputError(f"{path}: lengths ({what}) must all be integers >= 1.")
        lengths: list[int] = values.astype(np.int64).tolist()
        return cls(tuple(lengths))

    @property
    def max_tokens(self) -> int:
        return max(self.values)

    def sample(self, rng, size):
        return rng.choice(np.asarray(self.values, dtype=np.int64), size=size)

    def mean(self) -> float:
        return float(np.mean(self.values))


def as_length_dist(value: int | tuple[int, int] | LengthDist, field: str) -> LengthDist:
    """An int is a fixed length, a (low, high) pair is uniform."""
    if isinstance(value, LengthDist):
        return value
    if isinstance(value, int | np.integer):
        return Fixed(int(value))
    if isinstance(value, tuple | list) and len(value) == 2:
        return Uniform(int(value[0]), int(value[1]))
    raise PerfsimInputError(f"{field} must be an int, a (low, high) pair or a length distribution "
                            f"(got {value!r}).")


def parse_length(text: str | int | LengthDist, field: str) -> LengthDist:
    """A length from text: 'N' fixed, 'LOW-HIGH' uniform, 'lognormal:MEAN:SIGMA:MAX' or
    'file:PATH' (one integer per line); a distribution passes through."""
    if isinstance(text, LengthDist):
        return text
    if isinstance(text, int | np.integer):
        return Fixed(int(text))
    text = str(text).strip()
    try:
        if text.startswith("lognormal:"):
            mean, sigma, top = text.split(":")[1:]
            return LogNormal(float(mean), float(sigma), int(top))
        if text.startswith("file:"):
            return Empirical.from_file(text[5:])
        if "-" in text:
            low, high = text.split("-")
            return Uniform(int(low), int(high))
        return Fixed(int(text))
    except PerfsimInputError as exc:
        raise PerfsimInputError(f"{field}: {exc}") from None
    except ValueError:
        raise PerfsimInputError(f"{field} {text!r}: use N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or "
                                f"file:PATH.") from None


def _positive(name: str, value: int) -> None:
    """A token count: a positive integer no larger than any size perfsim accepts (a typo such as
    2**63 would otherwise overflow the int64 samples)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= MAX_SIZE:
        raise PerfsimInputError(f"{name} must be a positive integer up to {MAX_SIZE:,} (got {value!r}).")
