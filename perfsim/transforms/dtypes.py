"""Storage formats: KV cache (bf16 / fp8 / fp4) and weights. Parameter counts stay; bytes moved
and held change, so decode bandwidth, KV capacity and max batch change with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, get_args

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import DTypeName, ModelSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import validated

KV_DTYPES = ("bf16", "fp16", "fp8", "fp4")
#: Every storage format, including the weight-only ones with group scales (int4_awq, GGUF ...).
WEIGHT_DTYPES = tuple(get_args(DTypeName))
#: Formats a GEMM input can take: weight-only formats (AWQ/GPTQ int4, GGUF blocks) dequantise to
#: the activation dtype and are not activation formats; nvfp4 / mxfp4 are (W4A4 on FP4 tensor cores).
ACTIVATION_DTYPES = tuple(d for d in WEIGHT_DTYPES
                          if d not in ("int4_awq", "int4_gptq", "q4_k", "q5_k", "q6_k", "q8_0",
                                       "q4_k_m", "q5_k_m"))


@dataclass(frozen=True)
class _StorageFormat(Transform):
    """Sets one field of the model's `dtypes` to `dtype`, one of `allowed`."""

    dtype: str
    keeps_params = True
    field: ClassVar[str]
    allowed: ClassVar[tuple[str, ...]]

    def __post_init__(self) -> None:
        if self.dtype not in self.allowed:
            raise PerfsimInputError(
                f"{self.name}: dtype must be one of {', '.join(self.allowed)} (got {self.dtype!r})."
            )

    def apply(self, model: ModelSpec) -> ModelSpec:
        if getattr(model.dtypes, self.field) == self.dtype:
            return model
        data = model.model_dump()
        data["dtypes"][self.field] = self.dtype
        return validated(data, model.id)


@register_transform("kv_cache_dtype")
@dataclass(frozen=True)
class KVCacheDType(_StorageFormat):
    field, allowed = "kv_cache", KV_DTYPES


@register_transform("weight_dtype")
@dataclass(frozen=True)
class WeightDType(_StorageFormat):
    field, allowed = "weights", WEIGHT_DTYPES


@register_transform("activation_dtype")
@dataclass(frozen=True)
class ActivationDType(_StorageFormat):
    """Activation format; with matching weights GEMMs run at that format's tensor peak (W8A8
    FP8 as TensorRT-LLM's FP8 recipe does)."""

    field, allowed = "activations", ACTIVATION_DTYPES


#: The FP8 serving recipe of TensorRT-LLM / ModelOpt: FP8 weights and GEMM inputs, FP8 KV cache.
FP8_W8A8 = (WeightDType("fp8"), ActivationDType("fp8"), KVCacheDType("fp8"))
