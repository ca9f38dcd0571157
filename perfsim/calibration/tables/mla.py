"""MLA attention tables (mla/<framework>/<version>/context_mla_perf / generation_mla_perf).

Collector facts (ai-dynamo/aiconfigurator collector/{trtllm,sglang}/collect_mla.py): DeepSeek-V3
geometry (kv_lora_rank 512, qk_rope 64, qk_nope 128, v 128, bf16 activations), latency in ms;
`num_heads` is the heads on one GPU (total heads / tp_size, so rows of equal local heads are the
same kernel). Context rows run `isl` new tokens per sequence with no cached prefix (step 0),
causal; generation rows log isl = 1 and step = the cached history, so the kernel attends over
step + 1 keys. What the timed region holds:
- TensorRT-LLM context: expanded attention (q, k of 192, v of 128 per head, as many KV heads as
  query heads) plus its RoPE kernel, which also writes the new latents into the cache;
- TensorRT-LLM generation: `mla_rope_generation` (RoPE on q_pe, latent written to the cache,
  the fused query quantised to fp8 with an fp8 cache) then the absorbed kernel (one KV head of
  576, values its first 512: FlashMLA on Hopper);
- SGLang (fa3 backend on Hopper): the absorbed form for context and generation alike (head dim
  576, v 512, one KV head), after a kernel writing the new latents into the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from perfsim.calibration.tables import mla_module
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
from perfsim.ops import Elementwise
from perfsim.ops.mla_attention import MLAAttention
from perfsim.units import DTYPE_BYTES

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile

#: The geometry every collector runs (DeepSeek-V3), from collect_mla.py's scenario.
KV_LORA_RANK, QK_ROPE, QK_NOPE, V_HEAD = 512, 64, 128, 128
LATENT = KV_LORA_RANK + QK_ROPE
_SHAPE = ("phase", "absorbed", "dtype", "kv_dtype", "num_heads", "batch", "q_len", "kv_len")
#: fp8 matrix work may run at up to twice the bf16 rate it is expressed against.
FP8_RATE = (1e-3, 2.2)
_GROUP = ("phase", "absorbed", "dtype", "kv_dtype", "num_heads")
#: Runtimes whose prefill runs the absorbed form (SGLang's fa3 backend passes head dim 576).
ABSORBED_PREFILL = ("sglang",)


def rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    import pandas as pd

    module = raw["op_name"].astype(str).str.endswith("_module")  # whole modules: their own mapping
    kernels = _kernel_rows(raw[~module], runtime) if (~module).any() else None
    modules = finish(mla_module.frame(raw[module], runtime), mla_module.SHAPE) if module.any() else None
    return pd.concat([f for f in (kernels, modules) if f is not None], ignore_index=True)


def _kernel_rows(raw: pd.DataFrame, runtime: str) -> pd.DataFrame:
    context = raw["op_name"] == "mla_context"
    isl, step = raw["isl"].astype(float), raw["step"].astype(float)
    frame = raw.assign(
        phase=np.where(context, "prefill", "decode"),
        absorbed=~context | (runtime in ABSORBED_PREFILL),
        dtype=raw["mla_dtype"].map(DTYPES),
        kv_dtype=raw["kv_cache_dtype"].map(DTYPES),
        batch=raw["batch_size"],
        q_len=np.where(context, isl, 1.0),
        kv_len=np.where(context, isl, step + 1.0),
        measured_s=raw["latency"].astype(float) * 1e-3,
    )
    frame = frame[frame["q_len"] > 0]
    frame["family"] = "mla_" + frame["phase"] + np.where(frame["kv_dtype"] == "fp8", "_fp8kv", "")
    return finish(frame, _SHAPE)


def side_kernels(
    runtime: str, phase: str, b, q, heads: int, kv_dtype: str, fp8_units: bool = True
) -> list[Elementwise]:
    """The kernels the timed region runs besides attention: RoPE and the latent cache write
    (bf16 in, kv_dtype out), and the fp8 casts of queries (and, for TensorRT-LLM's context
    kernel on a device with fp8 matrix units, keys and values) an fp8 cache brings."""
    kvb, tokens = DTYPE_BYTES[kv_dtype], b * q
    if runtime == "tensorrt-llm" and phase == "decode":  # mla_rope_generation, one kernel
        quant = tokens * heads * LATENT * (2.0 + 1.0) if kv_dtype == "fp8" else 0.0
        rope = tokens * heads * QK_ROPE * 2.0 * 2.0
        return [
            Elementwise("mla_rope_generation", tokens * LATENT * 2.0 + rope + quant, tokens * LATENT * kvb)
        ]
    fp8 = kv_dtype == "fp8"
    if runtime == "tensorrt-llm":  # context RoPE on q and k, latent into the cache
        rope = tokens * heads * QK_ROPE * 2.0 * 2.0 * 2.0
        out = [Elementwise("mla_rope_context", tokens * LATENT * 2.0 + rope, tokens * LATENT * kvb)]
        if fp8 and fp8_units:  # the fp8 context kernel takes q, k and v quantised in a pass of their own
            qkv = tokens * heads * (2.0 * (QK_NOPE + QK_ROPE) + V_HEAD)
            out.append(Elementwise("mla_qkv_to_fp8", qkv * 2.0, qkv))
        return out
    out = [Elementwise("mla_cache_write", tokens * LATENT * 2.0, tokens * LATENT * kvb)]
    if fp8:  # SGLang's fa3 path casts q_nope and q_rope to the cache dtype, one kernel each
        out += [
            Elementwise("q_to_fp8", tokens * heads * d * 2.0, tokens * heads * d)
            for d in (KV_LORA_RANK, QK_ROPE)
        ]
    return out


def predict(hw: HardwareProfile, frame: pd.DataFrame, runtime: str) -> np.ndarray:
    if str(frame["family"].iloc[0]).startswith("mla_module"):
        return grouped_time(hw, frame, mla_module.GROUP, lambda key, g: mla_module.ops(key, g, runtime))
    fp8_units = "fp8" in hw.compute.peak_dense_flops_per_s

    def ops(key, group):
        phase, absorbed, dtype, kv_dtype, heads = key
        b, q, kv = arr(group, "batch"), arr(group, "q_len"), arr(group, "kv_len")
        attention = MLAAttention(
            phase,
            b,
            q,
            kv,
            int(heads),
            absorbed=bool(absorbed),
            kv_lora_rank=KV_LORA_RANK,
            qk_rope_head_dim=QK_ROPE,
            qk_nope_head_dim=QK_NOPE,
            v_head_dim=V_HEAD,
            dtype=dtype,
            kv_dtype=kv_dtype,
            causal=phase == "prefill",
        )
        return [attention, *side_kernels(runtime, phase, b, q, int(heads), kv_dtype, fp8_units)]

    return grouped_time(hw, frame, _GROUP, ops)


def params(frame: pd.DataFrame, hw: HardwareProfile, runtime: str) -> Bounds:
    phase = str(frame["phase"].iloc[0])
    if (frame["kv_dtype"] == "fp8").all():  # refinements, fitted after the bf16-cache figures
        if phase == "decode":
            return {
                "attention.mla.kv_fp8.decode_e_bw": FRACTION,
                "attention.mla.kv_fp8.decode_e_flops": FP8_RATE,
            }
        return {"attention.mla.kv_fp8.prefill_e": FP8_RATE}
    if phase == "prefill":  # the fixed cost is fitted on decode, where it is seen
        return {
            "attention.mla.prefill_e": FRACTION,
            "attention.mla.kv_half": LENGTH,
            "attention.mla.prefill_qo_exposed": FRACTION,
        }
    return {
        "attention.mla.t_fixed_s": SECONDS,
        "attention.mla.decode_e_bw": FRACTION,
        "attention.mla.decode_e_flops": FRACTION,
        "attention.mla.decode_item_s": (1e-10, 1e-5),
        "attention.mla.decode_kv_splits": (0.1, 1000.0),
    }


FAMILY = Family(
    "mla",
    (
        "context_mla_perf.parquet",
        "generation_mla_perf.parquet",
        "mla_context_module_perf.parquet",
        "mla_generation_module_perf.parquet",
    ),
    rows,
    predict,
    params,
)
