"""GEMM tables (gemm_perf.parquet): C[m, n] = A[m, k] @ W[k, n] timed per kernel.

Collector facts (ai-dynamo/aiconfigurator collector/<framework>/collect_gemm.py): latency in ms
per call; fp8 rows time the runtime's whole fp8 linear, which quantises the bf16 activation
inside the timed region (per tensor: see PER_TENSOR_INPUT; per 128-column block, "fp8_block":
one fused per-token-group pass that also writes the scales).
Weight-only rows (int4_wo, int8_wo, sq) are left to the weight-only kernel model. vLLM 0.24's
block-fp8 rows are not mapped: they take 57-177 us even at 16 x 1024 x 1024, where the same
table's bf16 and per-tensor fp8 rows take 3-5 us, so they time host dispatch, not the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import (
    DTYPES,
    FRACTION,
    LENGTH,
    SECONDS,
    Bounds,
    Family,
    arr,
    finish,
    grouped_time,
)
from perfsim.ops import Elementwise, Gemm

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("dtype", "scaling", "m", "n", "k")
#: Elements per fp8 scale in block-scaled (DeepSeek-style) activation quantisation.
QUANT_BLOCK = 128


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    dtypes = ["bfloat16", "fp8"] if runtime == "vllm" else ["bfloat16", "fp8", "fp8_block"]
    kept = raw[raw["gemm_dtype"].isin(dtypes)]
    frame = kept.assign(
        dtype=kept["gemm_dtype"].map(DTYPES),
        scaling=np.where(kept["gemm_dtype"] == "fp8_block", "block",
                         np.where(kept["gemm_dtype"] == "fp8", "tensor", "none")),
        measured_s=kept["latency"].astype(float) * 1e-3,
    )
    frame["family"] = "gemm_" + frame["dtype"] + np.where(frame["scaling"] == "block", "_block", "")
    return finish(frame, _SHAPE)


#: How each runtime's per-tensor fp8 linear scales its bf16 input (collector/<framework>/
#: collect_gemm.py): vLLM's is built with activation_scheme="static" (one quantise pass with a
#: given scale); TensorRT-LLM's QuantAlgo.FP8 Linear gets no input scale and quantises
#: dynamically (zero the scale, reduce the absmax into it, quantise: three kernels); SGLang's is
#: taken as dynamic (absmax, quantise).
PER_TENSOR_INPUT = {"vllm": "static", "tensorrt-llm": "dynamic_zeroed"}


def activation_quant(m, k, scaling: str, runtime: str = "") -> list[Elementwise]:
    """Quantisation of the bf16 activation an fp8 linear runs before its GEMM."""
    quantize = Elementwise("quantize_fp8", 2.0 * m * k, m * k)
    if scaling == "tensor":
        kind = PER_TENSOR_INPUT.get(runtime, "dynamic")
        if kind == "static":
            return [quantize]
        absmax = [Elementwise("absmax", 2.0 * m * k, 4.0), quantize]
        return [Elementwise("scale_init", 0.0, 4.0), *absmax] if kind == "dynamic_zeroed" else absmax
    if scaling == "block":
        return [Elementwise("quantize_fp8_block", 2.0 * m * k, m * k + 4.0 * m * k / QUANT_BLOCK)]
    return []


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        dtype, scaling = key
        m, n, k = arr(group, "m"), arr(group, "n"), arr(group, "k")
        return [Gemm(m, n, k, dtype), *activation_quant(m, k, scaling, runtime)]

    return grouped_time(hw, frame, ("dtype", "scaling"), ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    bounds = {f"gemm.e_max.{d}": FRACTION for d in sorted(frame["dtype"].unique())}
    bounds |= {f"gemm.tiles.{i}.2": FRACTION for i in range(1, len(hw.efficiency_in_use.gemm.tiles))}
    return bounds | {"gemm.k_half": LENGTH, "gemm.t_fixed_s": SECONDS, "gemm.e_bw": FRACTION}


FAMILY = Family("gemm", ("gemm_perf.parquet",), rows, predict, params)
