"""Storage formats: KV cache (bf16 / fp8 / fp4) and weights. Parameter counts stay; bytes moved
and held change, so decode bandwidth, KV capacity and max batch change with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from perfsim.errors import PerfsimInputError
from perfsim.model import DTypeName, ModelSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import validated

KV_DTYPES = ("bf16", "fp16", "fp8", "fp4")
WEIGHT_DTYPES = tuple(get_args(DTypeName))


def _with_dtype(model: ModelSpec, field: str, dtype: str) -> ModelSpec:
    if getattr(model.dtypes, field) == dtype:
        return model
    data = model.model_dump()
    data["dtypes"][field] = dtype
    return validated(data, model.id)


@register_transform("kv_cache_dtype")
@dataclass(frozen=True)
class KVCacheDType(Transform):
    dtype: str
    keeps_params = True

    def __post_init__(self) -> None:
        if self.dtype not in KV_DTYPES:
            raise PerfsimInputError(f"kv_cache_dtype: dtype must be one of {', '.join(KV_DTYPES)} (got "
                                    f"{self.dtype!r}).")

    def apply(self, model: ModelSpec) -> ModelSpec:
        return _with_dtype(model, "kv_cache", self.dtype)


@register_transform("weight_dtype")
@dataclass(frozen=True)
class WeightDType(Transform):
    dtype: str
    keeps_params = True

    def __post_init__(self) -> None:
        if self.dtype not in WEIGHT_DTYPES:
            raise PerfsimInputError(
                f"weight_dtype: dtype must be one of {', '.join(WEIGHT_DTYPES)} (got {self.dtype!r})."
            )

    def apply(self, model: ModelSpec) -> ModelSpec:
        return _with_dtype(model, "weights", self.dtype)


@register_transform("activation_dtype")
@dataclass(frozen=True)
class ActivationDType(Transform):
    """Activation format; with matching weights GEMMs run at that format's tensor peak (W8A8
    FP8 as TensorRT-LLM's FP8 recipe does)."""

    dtype: str
    keeps_params = True

    def __post_init__(self) -> None:
        if self.dtype not in WEIGHT_DTYPES:
            raise PerfsimInputError(
                f"activation_dtype: dtype must be one of {', '.join(WEIGHT_DTYPES)} (got {self.dtype!r})."
            )

    def apply(self, model: ModelSpec) -> ModelSpec:
        return _with_dtype(model, "activations", self.dtype)
