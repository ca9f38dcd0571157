"""MLA weight-absorption BMM tables (mla_bmm/<framework>/<version>/mla_bmm_perf.parquet).

Collector facts (ai-dynamo/aiconfigurator collector/<framework>/collect_mla_bmm.py), latency in
ms, DeepSeek-V3 geometry, one batched GEMM over `num_heads` heads:
- mla_gen_pre maps each head's q_nope into the latent: [tokens, 128] @ W_UK [128, 512];
- mla_gen_post maps each head's latent output to its value: [tokens, 512] @ W_UV [512, 128].
bf16 rows are one torch.bmm. fp8 rows also quantise the bf16 activation inside the timed region:
SGLang per tensor (per_tensor_quant_mla_fp8, then sgl_kernel's bmm_fp8), TensorRT-LLM per
1 x 128 block (fp8_batched_quantize_1x128_permute102, then fp8_block_scaling_bmm_out).
These are GEMMs, priced by the GEMM figures the gemm family fits; their labels are a check of
those figures on batched shapes, so they fit nothing of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import DTYPES, Bounds, Family, arr, finish, grouped_time
from perfsim.calibration.tables.gemm import activation_quant
from perfsim.calibration.tables.mla import KV_LORA_RANK, QK_NOPE, V_HEAD
from perfsim.ops import Gemm

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

_SHAPE = ("dtype", "scaling", "heads", "m", "n", "k")
#: (n, k) of each op's per-head GEMM.
_NK = {"mla_gen_pre": (KV_LORA_RANK, QK_NOPE), "mla_gen_post": (V_HEAD, KV_LORA_RANK)}
#: How each runtime's fp8 BMM scales its activation (see the module docstring).
_FP8_SCALING = {"sglang": "tensor", "tensorrt-llm": "block"}


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    kept = raw[raw["op_name"].isin(list(_NK)) & raw["bmm_dtype"].isin(["bfloat16", "fp8"])]
    kept = kept[(kept["bmm_dtype"] == "bfloat16") | (runtime in _FP8_SCALING)]
    n, k = (kept["op_name"].map({op: nk[i] for op, nk in _NK.items()}) for i in (0, 1))
    fp8 = kept["bmm_dtype"] == "fp8"
    frame = kept.assign(
        dtype=kept["bmm_dtype"].map(DTYPES),
        scaling=np.where(fp8, _FP8_SCALING.get(runtime, "none"), "none"),
        heads=kept["num_heads"],
        m=kept["num_tokens"].astype(float),
        n=n.astype(float),
        k=k.astype(float),
        measured_s=kept["latency"].astype(float) * 1e-3,
    )
    frame["family"] = "mla_bmm_" + kept["op_name"].str.removeprefix("mla_gen_") + np.where(fp8, "_fp8", "")
    return finish(frame, _SHAPE)


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    def ops(key, group):
        dtype, scaling, heads = key
        m, n, k = arr(group, "m"), arr(group, "n"), arr(group, "k")
        return [Gemm(m, n, k, dtype, groups=float(heads)), *activation_quant(m * heads, k, scaling, runtime)]

    return grouped_time(hw, frame, ("dtype", "scaling", "heads"), ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    return {}


FAMILY = Family("mla_bmm", ("mla_bmm_perf.parquet",), rows, predict, params)
