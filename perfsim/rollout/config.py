"""What one RL post-training run looks like: batch shape, lengths, pipeline, placement, costs.

Validated by pydantic, so the same rules hold for the library call, `perfsim rollout` and a YAML
file; a bad field is one sentence naming it and its allowed range.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.sim.config import EngineConfig
from perfsim.sim.lengths import LengthDist, parse_length


def _length(value: Any) -> LengthDist:
    return parse_length(value, "length")


def _decoding(value: Any) -> DecodingStrategy:
    if isinstance(value, dict):  # YAML: {name: speculative, k: 3, acceptance: 0.6, draft: eagle}
        params = dict(value)
        return make_decoding(params.pop("name", None), **params)
    return make_decoding(value)


def _engine(value: Any) -> EngineConfig | None:
    if not isinstance(value, dict):
        return value
    try:
        return EngineConfig(**value)
    except TypeError:
        known = ", ".join(EngineConfig.__dataclass_fields__)
        raise ValueError(f"engine accepts only {known}") from None


Length = Annotated[LengthDist, BeforeValidator(_length)]
Positive = Annotated[int, Field(ge=1)]


class RolloutConfig(BaseModel):
    """One GRPO/PPO-style run. Lengths accept an int, 'LOW-HIGH', 'lognormal:MEAN:SIGMA:MAX',
    'file:PATH' or a perfsim length distribution; `output_len` is what the policy would write,
    `max_output_len` the RL length cap that truncates it."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    steps: Annotated[int, Field(ge=1, le=100_000)] = 4
    prompts_per_step: Positive = 64
    samples_per_prompt: Positive = 8
    prompt_len: Length = parse_length(512, "prompt_len")
    output_len: Length = parse_length("lognormal:2048:1.0:131072", "output_len")
    max_output_len: Positive = 8192
    #: Multiplicative change of natural output lengths per step (-0.05: 5 % shorter each step,
    #: as under a length penalty such as DLER's); must stay above -1.
    length_drift_per_step: Annotated[float, Field(gt=-1.0, le=1.0)] = 0.0
    #: sync | async (one-step off-policy) | partial (token budget per step, tails carried over).
    pipeline: str = "sync"
    partial_rollout_tokens: Positive | None = None
    placement: Literal["colocated", "disaggregated"] = "colocated"
    generation_gpus: Positive = 8
    training_gpus: Positive = 8
    #: Tensor parallelism of each generation engine; engines = generation_gpus / tensor_parallel.
    tensor_parallel: Positive = 1
    decoding: Annotated[DecodingStrategy, BeforeValidator(_decoding)] = make_decoding(None)
    #: Draft acceptance per step (the drafter drifts from the policy); the last value holds.
    acceptance_by_step: tuple[Annotated[float, Field(gt=0.0, lt=1.0)], ...] | None = None
    engine: Annotated[EngineConfig | None, BeforeValidator(_engine)] = None
    #: Model FLOPs utilisation of training. Default: Llama 3 405B pre-training reached 38-43 %
    #: BF16 MFU on H100 (arXiv 2407.21783, Table 4); calibrate it for your trainer.
    training_mfu: Annotated[float, Field(gt=0.0, le=1.0)] = 0.40
    training_dtype: str = "bf16"
    #: Extra forward passes over all trained tokens: old-policy log-probs (NeMo-RL's "logprob"
    #: phase) and the frozen reference policy for the KL term.
    logprob_forwards: Annotated[int, Field(ge=0, le=4)] = 1
    reference_forwards: Annotated[int, Field(ge=0, le=4)] = 1
    #: PPO critic of the policy's size: one more forward + backward.
    critic: bool = False
    #: Weight-sync bandwidth per receiving GPU. None: the scale-up link (NVLink) when colocated,
    #: `network_bw_bytes_per_s` when disaggregated.
    sync_bw_bytes_per_s: Annotated[float, Field(gt=0)] | None = None
    #: Per-GPU network between pools: one 400 Gb/s NDR InfiniBand NIC per GPU (ConnectX-7) = 50 GB/s.
    network_bw_bytes_per_s: Annotated[float, Field(gt=0)] = 50e9
    #: Fixed cost per weight update (engine pause/resume, cache reset, collective set-up);
    #: an assumption of 1 s, not a measurement: set it from your framework's logs.
    sync_fixed_s: Annotated[float, Field(ge=0)] = 1.0

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise describe_validation_error("rollout config", exc) from None

    @model_validator(mode="after")
    def _consistent(self) -> RolloutConfig:
        from perfsim.rollout.pipelines import registered_pipelines

        if self.pipeline not in registered_pipelines():
            raise ValueError(f"pipeline {self.pipeline!r} is unknown; allowed: "
                             f"{', '.join(sorted(registered_pipelines()))}")
        if self.pipeline == "partial" and self.partial_rollout_tokens is None:
            raise ValueError(f"pipeline 'partial' needs partial_rollout_tokens "
                             f"(1..{self.max_output_len}, tokens a rollout may add per step)")
        if self.placement == "colocated" and self.training_gpus != self.generation_gpus:
            raise ValueError(f"colocated placement time-shares one pool, so training_gpus "
                             f"({self.training_gpus}) must equal generation_gpus ({self.generation_gpus})")
        if self.generation_gpus % self.tensor_parallel:
            raise ValueError(f"generation_gpus ({self.generation_gpus}) must be a multiple of "
                             f"tensor_parallel ({self.tensor_parallel})")
        if self.acceptance_by_step is not None and not hasattr(self.decoding, "acceptance"):
            raise ValueError(f"acceptance_by_step needs a speculative decoding strategy "
                             f"(got {self.decoding.describe()})")
        return self

    @property
    def rollouts_per_step(self) -> int:
        return self.prompts_per_step * self.samples_per_prompt

    @property
    def engines(self) -> int:
        return self.generation_gpus // self.tensor_parallel

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> RolloutConfig:
        """Read a config file; `decoding` may be a name or a mapping with `name` and parameters,
        `engine` a mapping of EngineConfig fields."""
        path = Path(path)
        if not path.is_file():
            raise PerfsimInputError(f"{path}: rollout config file not found.")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise PerfsimInputError(f"{path}: not valid YAML ({exc.__class__.__name__}).") from None
        if not isinstance(data, dict):
            raise PerfsimInputError(f"{path}: expected a mapping of rollout settings at the top level.")
        try:
            return cls(**data)
        except PerfsimInputError as exc:
            raise PerfsimInputError(f"{path}: {exc}") from None
