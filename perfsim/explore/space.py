"""space.yaml: the design space of a sweep or a search, validated at the YAML boundary.

A space has a base (a bundled `model`, or a generated `architecture` of HybridDesign fields), the
devices, the workload, the decoding strategy and the accuracy model, plus either `parameters`
(sweep: dotted fields -> values) or `search` (architecture fields -> ranges, for `perfsim search`).
Dotted fields: `model.<path>` and `hardware.<path>` override any field of the loaded description
(e.g. `model.operators.mlp.intermediate_size`, `hardware.memory.peak_bw_bytes_per_s`),
`architecture.<field>`, `decoding.<param>` (or `decoding.name`), `workload.batch|prompt_len|output_len`,
and plain `hardware` picks devices by id. Values: a list, `{low, high[, step][, log]}` or
`{choices: [...]}`. `tensor_parallel` and `expert_parallel` (dividing it; MoE models only) set the
deployment every point runs under, as perfsim.spec.deployment.Execution reads them.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import fields
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from perfsim.cost.runtime import DEFAULT_RUNTIME
from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.explore.design import HybridDesign
from perfsim.io.limits import MAX_TENSOR_PARALLEL
from perfsim.io.safe_yaml import checked, parse_yaml, read_text, strictly
from perfsim.spec.deployment import Execution
from perfsim.spec.runtime import RuntimeProfile

WORKLOAD_FIELDS = ("batch", "prompt_len", "output_len")
ARCH_FIELDS = tuple(f.name for f in fields(HybridDesign))
PREFIXES = ("model.", "architecture.", "hardware.", "decoding.", "workload.")


#: Most values one swept field may take, and most points a space may hold (grid product or samples).
MAX_VALUES = 100_000
MAX_POINTS = 1_000_000
#: Most trials a search may run.
MAX_BUDGET = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Strict):
    low: float
    high: float
    step: float | None = Field(default=None, gt=0)
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must be >= low ({self.low:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.step is not None and (self.high - self.low) / self.step + 1 > MAX_VALUES:
            raise ValueError(f"low {self.low:g} to high {self.high:g} in steps of {self.step:g} gives more "
                             f"than {MAX_VALUES:,} values; use a larger step")
        return self

    @property
    def integer(self) -> bool:
        return all(float(v).is_integer() for v in (self.low, self.high, self.step or 1))

    def grid(self, default_points: int = 8) -> list:
        if self.step is not None:
            values = np.arange(self.low, self.high + self.step / 2, self.step)
        elif self.log:
            values = np.geomspace(self.low, self.high, default_points)
        else:
            values = np.linspace(self.low, self.high, default_points)
        return [int(round(v)) for v in values] if self.integer else [float(v) for v in values]

    def sample(self, rng: np.random.Generator):
        if self.step is not None:
            return self.grid()[int(rng.integers(len(self.grid())))]
        value = (
            np.exp(rng.uniform(np.log(self.low), np.log(self.high)))
            if self.log
            else rng.uniform(self.low, self.high)
        )
        return int(round(value)) if self.integer else float(value)


class Choices(_Strict):
    choices: list[Any] = Field(min_length=1)


Values = Range | Choices | list[Any]


class Workload(_Strict):
    batch: int = Field(default=1, ge=1)
    prompt_len: int = Field(default=1024, ge=1)
    output_len: int = Field(default=256, ge=1)


class Bound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _possible(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g}): no design can meet it")
        return self


def _default_objectives() -> dict[str, Literal["min", "max"]]:
    return {"e2e_s": "min", "accuracy": "max"}


class Space(_Strict):
    model: str | None = None
    architecture: dict[str, Any] | None = None
    hardware: str | list[str] = "h100-sxm"
    workload: Workload = Workload()
    decoding: dict[str, Any] | None = None
    accuracy: str | dict[str, Any] | None = None
    #: Runtime id, YAML path or RuntimeProfile every point runs under (`none`: runtime-free).
    runtime: str | RuntimeProfile | None = DEFAULT_RUNTIME
    #: GPUs every point is sharded over, and the expert-parallel share of them (Execution fields).
    tensor_parallel: int = Field(default=1, ge=1, le=MAX_TENSOR_PARALLEL)
    expert_parallel: int = Field(default=1, ge=1, le=MAX_TENSOR_PARALLEL)
    parameters: dict[str, Values] = Field(default_factory=dict)
    mode: Literal["grid", "random"] = "grid"
    samples: int = Field(default=1000, ge=1, le=MAX_POINTS)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    search: dict[str, Values] = Field(default_factory=dict)
    objectives: dict[str, Literal["min", "max"]] = Field(default_factory=_default_objectives)
    constraints: dict[str, Bound] = Field(default_factory=dict)
    budget: int = Field(default=100, ge=1, le=MAX_BUDGET)

    @model_validator(mode="after")
    def _base(self) -> Space:
        if (self.model is None) == (self.architecture is None):
            raise ValueError("give exactly one of 'model' (an id or path) or 'architecture' (design fields)")
        if self.architecture is not None:
            unknown = sorted(set(self.architecture) - set(ARCH_FIELDS))
            if unknown:
                raise ValueError(
                    f"unknown architecture field(s) {unknown}; allowed: {', '.join(ARCH_FIELDS)}"
                )
        if self.mode == "grid":
            size = 1
            for values in self.sweep_parameters().values():
                size *= len(_as_list(values))
            if size > MAX_POINTS:
                raise ValueError(f"the grid holds {size:,} points; the limit is {MAX_POINTS:,} (use "
                                 f"mode: random with samples, or fewer values)")
        return self

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, value: dict) -> dict:
        for key in value:
            if key == "hardware" or key.startswith(PREFIXES):
                if key.startswith("workload.") and key[9:] not in WORKLOAD_FIELDS:
                    raise ValueError(f"'{key}': workload fields are {', '.join(WORKLOAD_FIELDS)}")
                if key.startswith("architecture.") and key[13:] not in ARCH_FIELDS:
                    raise ValueError(f"'{key}': architecture fields are {', '.join(ARCH_FIELDS)}")
                continue
            raise ValueError(
                f"'{key}' is not a sweepable field; use hardware or a field under "
                f"{', '.join(p + '*' for p in PREFIXES)}"
            )
        return value

    @field_validator("expert_parallel")
    @classmethod
    def _divides_tp(cls, value: int, info: ValidationInfo) -> int:
        tp = info.data.get("tensor_parallel", 1)
        if tp % value:
            raise ValueError(f"must divide tensor_parallel ({tp}), since experts are placed on those GPUs")
        return value

    @field_validator("search")
    @classmethod
    def _known_search(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(ARCH_FIELDS))
        if unknown:
            raise ValueError(f"unknown search field(s) {unknown}; allowed: {', '.join(ARCH_FIELDS)}")
        return value

    @property
    def execution(self) -> Execution:
        """The deployment every point runs under (the runtime fills the rest)."""
        return Execution(tensor_parallel=self.tensor_parallel, expert_parallel=self.expert_parallel)

    @property
    def devices(self) -> list[str]:
        return [self.hardware] if isinstance(self.hardware, str) else list(self.hardware)

    def sweep_parameters(self) -> dict[str, Values]:
        """`parameters`, plus the device list as a swept `hardware` field when it names several."""
        params = dict(self.parameters)
        if "hardware" not in params and len(self.devices) > 1:
            params["hardware"] = list(self.devices)
        return params

    def values(self, key: str) -> list:
        """The grid values of one swept field."""
        return _as_list(self.sweep_parameters()[key])

    def points(self) -> list[dict[str, Any]]:
        """The swept points: every parameter combination (grid) or `samples` random draws."""
        params = self.sweep_parameters()
        if not params:
            return [{}]
        keys = list(params)
        if self.mode == "grid":
            lists = [_as_list(params[k]) for k in keys]
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]
        rng = np.random.default_rng(self.seed)
        return [{k: _draw(params[k], rng) for k in keys} for _ in range(self.samples)]


def _as_list(values: Values) -> list:
    if isinstance(values, Range):
        return values.grid()
    return list(values.choices if isinstance(values, Choices) else values)


def _draw(values: Values, rng: np.random.Generator):
    if isinstance(values, Range):
        return values.sample(rng)
    options = values.choices if isinstance(values, Choices) else values
    return options[int(rng.integers(len(options)))]


def load_space(source: str | os.PathLike | dict | Space) -> Space:
    """A validated Space from a YAML path, a mapping or a Space; bad input is one sentence."""
    if isinstance(source, Space):
        return source
    if isinstance(source, dict):
        name, data = "space", checked("space", source, "mapping")
    elif isinstance(source, str | os.PathLike) and str(source).strip() and "\x00" not in str(source):
        name = str(source)
        data = parse_yaml(name, read_text(name, "space file"))
    else:
        raise PerfsimInputError(f"expected a space.yaml path, a mapping or a Space, got {source!r}.")
    if name != "space":
        return strictly(Space, name, data)
    try:
        return Space.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(name, exc) from None

