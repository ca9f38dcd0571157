"""Whole MLA attention modules (mla/<framework>/<version>/mla_{context,generation}_module_perf).

Collector facts (ai-dynamo/aiconfigurator collector/{vllm,trtllm}/collect_mla_module.py): the
runtime's own DeepSeek-V3 attention module (hidden 7168, q_lora_rank 1536, kv_lora_rank 512, rope
64, nope 128, v 128) is built with `num_heads` heads on one GPU (tp_size 1) and its forward is
timed, from the hidden states in to the o_proj output: the fused q/kv down-projection, the two
latent norms, q_b_proj, RoPE and the latent cache write, then in context kv_b_proj and expanded
attention over the prompt (no cached prefix: step 0), in generation the W_UK batched GEMM, the
absorbed attention and the W_UV batched GEMM, and o_proj. `gemm_type` fp8_block runs the
projections as block-scaled fp8 linears, which quantise their bf16 input first. Generation's
`step` is the sequence length including the new token in vLLM (the cache holds step - 1) and
the cached history in TensorRT-LLM (attending over step + 1). Every shape keeps its fastest
attention backend (`kernel_source`), as a tuned deployment would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables.family import DTYPES, arr
from perfsim.calibration.tables.gemm import activation_quant
from perfsim.ops import Elementwise, Gemm
from perfsim.ops.mla_attention import MLAAttention

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.ops.base import Op

HIDDEN, Q_LORA, KV_LORA, ROPE, NOPE, V = 7168, 1536, 512, 64, 128, 128
LATENT = KV_LORA + ROPE
SHAPE = ("phase", "dtype", "kv_dtype", "gemm", "num_heads", "batch", "q_len", "kv_len")
GROUP = ("phase", "dtype", "kv_dtype", "gemm", "num_heads")
#: Runtimes whose generation `step` already counts the new token.
STEP_INCLUDES_NEW = ("vllm",)


def frame(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    """Mapped module rows (labels mla_module_<phase>[_fp8kv][_fp8gemm]), before `finish`."""
    context = raw["op_name"] == "mla_context_module"
    isl, step = raw["isl"].astype(float), raw["step"].astype(float)
    history = step - 1.0 if runtime in STEP_INCLUDES_NEW else step
    out = raw.assign(
        phase=np.where(context, "prefill", "decode"),
        dtype=raw["mla_dtype"].map(DTYPES),
        kv_dtype=raw["kv_cache_dtype"].map(DTYPES),
        gemm=np.where(raw["gemm_type"] == "fp8_block", "fp8_block", "bf16"),
        batch=raw["batch_size"],
        q_len=np.where(context, isl, 1.0),
        kv_len=np.where(context, isl + step, history + 1.0),
        measured_s=raw["latency"].astype(float) * 1e-3,
    )
    out = out[(out["q_len"] > 0) & (out["kv_len"] >= out["q_len"])]
    label: pd.Series = "mla_module_" + out["phase"] + np.where(out["kv_dtype"] == "fp8", "_fp8kv", "")
    return out.assign(family=label + np.where(out["gemm"] == "fp8_block", "_fp8gemm", ""))


def _linear(m, n: int, k: int, gemm: str, runtime: str) -> list[Op]:
    if gemm == "fp8_block":
        return [Gemm(m, n, k, "fp8"), *activation_quant(m, k, "block", runtime)]
    return [Gemm(m, n, k, "bf16")]


def ops(key: tuple, group: pd.DataFrame, runtime: str) -> list[Op]:
    """The module's kernels for one group of rows (see the module docstring)."""
    phase, dtype, kv_dtype, gemm, heads = key
    heads = int(heads)
    b, q, kv = arr(group, "batch"), arr(group, "q_len"), arr(group, "kv_len")
    t = b * q
    kvb = 1.0 if kv_dtype == "fp8" else 2.0
    out: list[Op] = [
        *_linear(t, Q_LORA + LATENT, HIDDEN, gemm, runtime),
        Elementwise("latent_norms", t * (Q_LORA + KV_LORA) * 2.0, t * (Q_LORA + KV_LORA) * 2.0),
        *_linear(t, heads * (NOPE + ROPE), Q_LORA, gemm, runtime),
        Elementwise("rope", t * (heads + 1) * ROPE * 2.0, t * (heads + 1) * ROPE * 2.0),
        Elementwise("latent_cache_write", t * LATENT * 2.0, t * LATENT * kvb),
    ]
    if phase == "prefill":  # decompress K and V for the prompt, then expanded attention
        out += _linear(t, heads * (NOPE + V), KV_LORA, gemm, runtime)
        out.append(MLAAttention("prefill", b, q, kv, heads, absorbed=False, dtype=dtype, kv_dtype=kv_dtype))
    else:  # absorbed: queries into the latent, attention over it, outputs back out
        out += [
            Gemm(t, KV_LORA, NOPE, "bf16", groups=float(heads)),
            MLAAttention("decode", b, q, kv, heads, dtype=dtype, kv_dtype=kv_dtype, causal=False),
            Gemm(t, V, KV_LORA, "bf16", groups=float(heads)),
        ]
    return [*out, *_linear(t, HIDDEN, heads * V, gemm, runtime)]
