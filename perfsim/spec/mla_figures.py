"""Efficiency figures of multi-head latent attention kernels (`attention.mla` in a profile).

MLA kernels are kernels of their own, not the standard attention kernels run at other shapes:
decode runs one KV head of kv_lora_rank + rope dims (576 for DeepSeek-V3) shared by every query
head, so it is compute-bound at 128 heads where standard decode is KV-stream bound (FlashMLA,
FA3's MLA path, TensorRT-LLM's MLA kernels); prefill runs either that absorbed form (SGLang on
Hopper) or ordinary attention with 192-wide keys and 128-wide values (TensorRT-LLM, vLLM).
Each runtime's calibration fits these figures for its own kernels; the priors are FlashMLA's
published H800 figures (deepseek-ai/FlashMLA README: up to 3000 GB/s memory-bound, 660 TFLOPS
compute-bound with bf16, on a part with 3.35 TB/s and 989 dense bf16 TFLOPS; a split-KV kernel
and its combine kernel per call) and the FA3 paper's prefill fraction (arXiv 2407.08608: about
0.6 of dense bf16 peak at head dim 128).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1.1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MLAKvFp8Figures(_Strict):
    """How MLA over an fp8 latent cache differs: the kernels are other kernels (dequantising in
    the inner loop, or fp8 matrix work on quantised queries). Priors: the bf16 cache's figures."""

    #: Prefill matrix efficiency with an fp8 cache (above 1 where QK^T and PV run on fp8 units).
    prefill_e: Annotated[float, Field(gt=0, le=2.2)] = 0.9
    #: Decode latent-stream efficiency with an fp8 cache.
    decode_e_bw: Fraction = 0.9
    #: Decode matrix efficiency with an fp8 cache (above 1 where the matrix work runs in fp8).
    decode_e_flops: Annotated[float, Field(gt=0, le=2.2)] = 0.67


class MLAFigures(_Strict):
    """Figures the MLA attention op (perfsim.ops.mla_attention) prices with."""

    #: Prefill matrix efficiency (fraction of the attention dtype's dense peak, softmax priced
    #: apart as `attention.softmax_cost_flops`) for long prompts: FA3's 0.61 of dense bf16 at head
    #: dim 128 re-expressed without the exponentials' share (x (4 x 128 + 256) / (4 x 128)).
    prefill_e: Fraction = 0.9
    #: Keys per query at which prefill's inner loop reaches half its throughput (pipeline fill).
    kv_half: Positive = 192.0
    #: Decode matrix efficiency: 660 of 989 TFLOPS (FlashMLA, H800, compute-bound).
    decode_e_flops: Fraction = 0.67
    #: Decode latent-stream efficiency: 3000 of 3350 GB/s (FlashMLA, H800, memory-bound).
    decode_e_bw: Fraction = 0.9
    #: Decode seconds per sequence beyond its latent stream (split-KV partials and their combine).
    decode_item_s: NonNegative = 0.0
    #: Share of prefill's query loads and output stores not hidden behind its matrix work (each
    #: tile loads its queries before its main loop and stores its output after it; the absorbed
    #: form moves 576 + 512 values per head and token, so this is what short prompts wait on).
    prefill_qo_exposed: Annotated[float, Field(ge=0, le=1.1)] = 0.0
    #: CTAs one sequence's decode is split over along its keys, per tile of query heads; None:
    #: split-KV scheduling fills every SM (FlashMLA, FA3). Kernels without split-KV (1) leave most
    #: SMs idle for small batches of long contexts.
    decode_kv_splits: Positive | None = None
    #: Fixed cost per call: two kernels (the split-KV kernel and its combine), 5 us each.
    t_fixed_s: NonNegative = 1.0e-5
    kv_fp8: MLAKvFp8Figures = Field(default_factory=MLAKvFp8Figures)
