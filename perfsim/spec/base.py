"""Pydantic building blocks shared by every spec module (model, layer kinds), kept apart from
perfsim.spec.model so that layer modules can define their specs without importing the model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from perfsim.io.limits import MAX_SIZE

#: A positive size. Strict: `true`, 8.0 and "8" are not 8 (each a sign of a mistake in the input).
PosInt = Annotated[int, Field(gt=0, le=MAX_SIZE, strict=True)]
DTypeName = Literal["fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4",
                    # weight-only storage formats with scales (perfsim.units.WEIGHT_FORMAT_BITS)
                    "int4_awq", "int4_gptq", "nvfp4", "mxfp4",
                    "q4_k", "q5_k", "q6_k", "q8_0", "q4_k_m", "q5_k_m"]
Activation = Literal["swiglu", "geglu", "gelu", "relu2", "silu"]
#: Activations with a gate branch (the up projection is twice as wide).
GATED_ACTIVATIONS = ("swiglu", "geglu")


class _Strict(BaseModel):
    """Unknown keys are errors, NaN and infinity are refused in every float field, and instances
    are frozen (hashable, safe to share)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


__all__ = ["GATED_ACTIVATIONS", "MAX_SIZE", "Activation", "DTypeName", "PosInt", "_Strict"]
