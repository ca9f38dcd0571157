"""Vision-language prefill: TTFT = host video work + ViT encoder + LLM prefill of what is kept.

A video of F frames (one tile each, InternVL/RADIO style) is F x patches ViT tokens; pixel
shuffle turns each tile into `tokens_per_tile` LLM tokens. Token reduction happens before the
LLM (EVS: keep a fraction of the visual tokens, the first frame whole) and/or inside it (a
per-layer keep schedule, low-to-high progressive reduction as in hybrid-VLM stateful token
reduction): layer l then runs on text + kept visual tokens. The ViT is priced with the same
GEMM/attention roofline as the LLM, or by a measured time per tile. Host work (decoding and
resizing frames) runs on the CPU and is an explicit input, never guessed.

Engine detail that matters (papers.md section 12): SGLang computes a request's multimodal
embedding per prefill chunk and keeps it only in its embedding cache; with the cache disabled
(SGLANG_VLM_CACHE_SIZE_MB=0, as in the EVS measurement) every chunk re-runs the encoder
(`encoder_per_chunk=True`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from perfsim.cost.graph import StepBatch, build_step
from perfsim.cost.memory import memory as _memory
from perfsim.cost.memory import require_fit
from perfsim.cost.params import mlp_params
from perfsim.cost.runtime import (
    DEFAULT_RUNTIME,
    RuntimeLike,
    load_runtime_like,
    prefill_chunk_tokens,
    resolve_deployment,
)
from perfsim.cost.step import LaunchModel, TimedKernel, evaluate_step, timed_kernels
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model
from perfsim.ops import Attention, Elementwise, Gemm, Op
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec, VisionEncoderSpec
from perfsim.transforms.layout import layer_spans
from perfsim.units import DTYPE_BYTES


@dataclass(frozen=True)
class VisionPrefill:
    """TTFT of one multimodal request and where it goes (seconds, tokens)."""

    ttft_s: float
    host_s: float
    encoder_s: float
    encoder_runs: int
    llm_prefill_s: float
    frames: int
    visual_tokens: int  # produced by the encoder
    llm_visual_tokens: int  # entering the LLM after pre-LLM reduction
    prompt_tokens: int  # entering the LLM, text included
    chunks: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def vision_params(spec: VisionEncoderSpec, llm_hidden: int) -> float:
    """ViT blocks (attention with biases, MLP, two LayerNorms) + patch embedding + projector."""
    h, i = spec.hidden_size, spec.intermediate_size
    gated = spec.activation in ("swiglu", "geglu")
    block = 4 * h * h + 4 * h + mlp_params(h, i, gated, bias=True) + 4 * h
    patch = 3 * spec.patch_size_px**2 * h + h
    proj_in = h * spec.pixel_shuffle**2
    ph = spec.projector_intermediate_size
    projector = proj_in + proj_in * ph + ph * llm_hidden
    return spec.num_layers * block + patch + projector


def _encoder_ops(spec: VisionEncoderSpec, llm_hidden: int, tiles: int, dtype: str, wdtype: str) -> list[Op]:
    """Kernels of one encoder pass over `tiles` tiles (ViT layers repeated num_layers times)."""
    seq = spec.patches_per_tile + spec.extra_tokens
    n, h, i, a = tiles * seq, spec.hidden_size, spec.intermediate_size, DTYPE_BYTES[dtype]
    up = i * (2 if spec.activation in ("swiglu", "geglu") else 1)
    heads = spec.num_heads
    layer = [
        Elementwise("layernorm", n * h * a, n * h * a),
        Gemm(n, 3 * h, h, dtype, wdtype),
        Attention("prefill", tiles, seq, seq, heads, heads, h // heads, dtype=dtype, causal=False),
        Gemm(n, h, h, dtype, wdtype),
        Elementwise("layernorm", 2 * n * h * a, n * h * a),
        Gemm(n, up, h, dtype, wdtype),
        Elementwise("act", n * up * a, n * i * a),
        Gemm(n, h, i, dtype, wdtype),
    ]
    out_tokens = tiles * spec.tokens_per_tile
    proj_in, ph = h * spec.pixel_shuffle**2, spec.projector_intermediate_size
    head = [Elementwise("patch_embed", tiles * 3 * spec.image_size_px**2 * a, n * h * a,
                        flops=2.0 * n * h * 3 * spec.patch_size_px**2)]
    projector = [
        Elementwise("pixel_shuffle_norm", 2 * out_tokens * proj_in * a, out_tokens * proj_in * a),
        Gemm(out_tokens, ph, proj_in, dtype, wdtype),
        Elementwise("act", out_tokens * ph * a, out_tokens * ph * a),
        Gemm(out_tokens, llm_hidden, ph, dtype, wdtype),
    ]
    return head + layer * spec.num_layers + projector


def encoder_time(model: ModelSpec | str, hw: HardwareProfile | str, tiles: int) -> float:
    """Seconds for one encoder pass over `tiles` image tiles / video frames (device time;
    launches are negligible next to hundreds of milliseconds of GEMMs)."""
    model, hw = load_model(model), load_hardware(hw)
    spec = _vision(model)
    if spec.measured_s_per_tile is not None:
        return spec.measured_s_per_tile * tiles
    ops = _encoder_ops(spec, model.hidden_size, tiles, model.dtypes.activations, model.dtypes.weights)
    return float(sum(float(op.time(hw)) for op in ops))


def _vision(model: ModelSpec) -> VisionEncoderSpec:
    if model.vision is None:
        raise PerfsimInputError(f"{model.id} has no vision encoder (add a 'vision:' block to its YAML).")
    return model.vision


def _schedule_prefill(model: ModelSpec, hw: HardwareProfile, text: int, visual: int,
                      schedule: Mapping[int, float], execution: Execution) -> float:
    """One whole-prompt prefill where layer l (a mixer and its FFNs) sees text + keep_l x visual
    tokens; the keep fraction holds from each listed layer until the next one."""
    spans = layer_spans(model)
    bad = [k for k in schedule if not 0 <= k < len(spans)]
    keeps = [schedule[k] for k in sorted(schedule)]
    if bad or any(not 0 <= f <= 1 for f in keeps) or any(b > a for a, b in zip(keeps, keeps[1:],
                                                                               strict=False)):
        raise PerfsimInputError(
            f"keep_schedule must map layer indices 0..{len(spans) - 1} to non-increasing fractions in [0, 1] "
            f"(got {dict(schedule)})."
        )
    keep, per_layer = 1.0, []
    for i in range(len(spans)):
        keep = schedule.get(i, keep)
        per_layer.append(keep)
    cache: dict[int, dict[str, list[TimedKernel]]] = {}

    def timed(tokens: int) -> dict[str, list[TimedKernel]]:
        if tokens not in cache:
            groups = build_step(model, StepBatch(prefill_seqs=1, prefill_tokens=tokens), execution)
            cache[tokens] = timed_kernels(groups, hw)
        return cache[tokens]

    # one step whose sublayer instances run at their layer's token count, keyed "name@tokens"
    full = timed(text + visual)
    kernels = {"embedding": full["embedding"], "lm_head": full["lm_head"]}
    sequence, names = ["embedding"], model.sublayer_names
    for span, kept in zip(spans, per_layer, strict=True):
        tokens = max(text + int(round(visual * kept)), 1)
        for p in span:
            key = f"{names[p]}@{tokens}"
            kernels[key] = timed(tokens)[names[p]]
            sequence.append(key)
    # priced as one CUDA-graph launch without host overhead, whatever `execution` says (as always)
    graph = replace(LaunchModel.of(hw, execution), cuda_graphs=True, host_overhead_per_step_s=0.0,
                    host_per_seq_per_step_s=0.0)
    return float(graph.step_s(kernels, sequence + ["lm_head"])[0])


def _chunked_prefill(model: ModelSpec, hw: HardwareProfile, tokens: int, chunk: int,
                     execution: Execution) -> tuple[float, int]:
    total, past, chunks = 0.0, 0, 0
    while past < tokens:
        n = min(chunk, tokens - past)
        step = StepBatch(prefill_seqs=1, prefill_tokens=n, prefill_past=past)
        total += evaluate_step(model, hw, step, execution).latency_s
        past, chunks = past + n, chunks + 1
    return total, chunks


def vlm_ttft(model: ModelSpec | str, hw: HardwareProfile | str, *, frames: int = 1, text_tokens: int = 0,
             keep_before_llm: float = 1.0, keep_first_frame: bool = True,
             keep_schedule: Mapping[int, float] | None = None, chunk_tokens: int | None = None,
             encoder_per_chunk: bool = False, host_s: float = 0.0, execution: Execution | None = None,
             check_memory: bool = True, runtime: RuntimeLike = DEFAULT_RUNTIME) -> VisionPrefill:
    """Time to first token of one request with `frames` video frames (or image tiles).

    `keep_before_llm` is the fraction of visual tokens kept before the LLM (EVS keeps 1 - q of
    them, the first frame whole when `keep_first_frame`); `keep_schedule` maps layer index ->
    fraction kept from that layer on (inside-LLM reduction; whole-prompt prefill). With
    `chunk_tokens` the prompt is prefilled in chunks of that many tokens; `host_s` is measured
    CPU time (decode, resize) the caller supplies. `runtime` (id, path or RuntimeProfile) supplies
    the LLM's kernels and host costs and, without `chunk_tokens` or `keep_schedule`, its prefill chunk.
    """
    model, hw = load_model(model), load_hardware(hw)
    spec = _vision(model)
    profile = load_runtime_like(runtime)
    hw, execution = resolve_deployment(profile, hw, execution)
    if profile is not None and chunk_tokens is None and keep_schedule is None:
        chunk_tokens = prefill_chunk_tokens(profile, hw)
    for name, value in (("frames", frames), ("text_tokens + 1", text_tokens + 1)):
        if not isinstance(value, int) or value < 1:
            raise PerfsimInputError(f"{name} must be a positive integer (got {value!r}).")
    if not 0 < keep_before_llm <= 1:
        raise PerfsimInputError(f"keep_before_llm must be in (0, 1] (got {keep_before_llm}).")
    if host_s < 0:
        raise PerfsimInputError(f"host_s must be >= 0 (got {host_s}).")
    if chunk_tokens is not None and chunk_tokens < 1:
        raise PerfsimInputError(f"chunk_tokens must be >= 1 (got {chunk_tokens}).")
    per_frame = spec.tokens_per_tile
    visual = frames * per_frame
    if keep_first_frame:
        kept = per_frame + int(round((frames - 1) * per_frame * keep_before_llm))
    else:
        kept = int(round(visual * keep_before_llm))
    prompt = kept + text_tokens
    if prompt > model.max_context_len:
        raise PerfsimInputError(f"{prompt} prompt tokens exceed max_context_len {model.max_context_len} "
                                f"of {model.id}.")
    if check_memory:
        report = _memory(model, hw, 1, prompt, tensor_parallel=execution.tensor_parallel,
                         prefill_chunk_tokens=chunk_tokens)
        require_fit(report, model.id, hw.id, 1, prompt)
    if keep_schedule:
        llm, chunks = _schedule_prefill(model, hw, text_tokens, kept, keep_schedule, execution), 1
    else:
        llm, chunks = _chunked_prefill(model, hw, prompt, chunk_tokens or prompt, execution)
    runs = chunks if encoder_per_chunk else 1
    encoder = encoder_time(model, hw, frames) * runs
    return VisionPrefill(ttft_s=host_s + encoder + llm, host_s=host_s, encoder_s=encoder, encoder_runs=runs,
                         llm_prefill_s=llm, frames=frames, visual_tokens=visual, llm_visual_tokens=kept,
                         prompt_tokens=prompt, chunks=chunks)


__all__ = ["VisionPrefill", "encoder_time", "vision_params", "vlm_ttft"]
