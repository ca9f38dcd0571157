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
from perfsim.ops import ActivationQuant, Gemm

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("dtype", "scaling", "m", "n", "k")


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
#: Per-token cost of a quantisation kernel: 10 ps (no such floor) to 100 ns per row.
ROW_SECONDS = (1e-11, 1e-7)
#: One CTA's bandwidth in SMs' fair shares: 0.1 to 100.
CTA_SHARE = (0.1, 100.0)


def activation_quant(m, k, scaling: str, runtime: str = "") -> list[ActivationQuant]:
    """Quantisation of the bf16 activation an fp8 linear runs before its GEMM."""
    if scaling == "tensor":
        return [ActivationQuant(m, k, PER_TENSOR_INPUT.get(runtime, "dynamic"))]
    if scaling == "block":
        return [ActivationQuant(m, k, "block")]
    return []


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        dtype, scaling = key
        m, n, k = arr(group, "m"), arr(group, "n"), arr(group, "k")
        mainloop_e = hw.efficiency_in_use.gemm.block_scaled_e if scaling == "block" else 1.0
        gemm = Gemm(m, n, k, dtype, mainloop_e=mainloop_e)
        return [gemm, *activation_quant(m, k, scaling, runtime)]

    return grouped_time(hw, frame, ("dtype", "scaling"), ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    bounds = {f"gemm.e_max.{d}": FRACTION for d in sorted(frame["dtype"].unique())}
    bounds |= {f"gemm.tiles.{i}.2": FRACTION for i in range(1, len(hw.efficiency_in_use.gemm.tiles))}
    bounds |= {"gemm.k_half": LENGTH, "gemm.t_fixed_s": SECONDS, "gemm.e_bw": FRACTION}
    if set(frame["scaling"]) & {"tensor", "block"}:  # narrow fp8 GEMMs show the per-CTA stream
        bounds["gemm.cta_bw_share"] = CTA_SHARE
    return bounds | quant_params(frame)


def quant_params(frame: pd.DataFrame) -> Bounds:
    """The activation-quantisation figures (and the block-scaled main loop) fp8 rows determine."""
    bounds: Bounds = {}
    for scaling in sorted(set(frame["scaling"]) & {"tensor", "block"}):
        bounds |= {f"gemm.quant_{scaling}.e_bw": FRACTION, f"gemm.quant_{scaling}.row_s": ROW_SECONDS,
                   f"gemm.quant_{scaling}.t_fixed_s": SECONDS}
    if "block" in set(frame["scaling"]):
        bounds["gemm.block_scaled_e"] = FRACTION
    return bounds


FAMILY = Family("gemm", ("gemm_perf.parquet",), rows, predict, params)
