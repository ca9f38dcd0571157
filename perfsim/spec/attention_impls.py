"""Attention efficiency per kernel implementation (FA2, FA3, FlashInfer, TensorRT-LLM FMHA, ...).

A hardware profile prices one *default* implementation with the fields it always had
(`attention.impl`, `attention.prefill_e`, ...; calibration paths such as `attention.prefill_e.bf16`
keep naming them) and lists the others under `attention.implementations`, each with a `source`.
An entry gives the figures that differ (`prefill_e` for prefill, `decode_e_bw` for decode, tiling
fields where they differ); a phase it gives no figure for is priced as the implementation named by
`same_as` (with the reason in `source`), or is an error. An implementation the profile does not list
is an error too: nothing falls back silently. Tiling fields an entry leaves out are the default
implementation's (the matrix-unit tile and launch fixed cost belong to the device).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from perfsim.errors import PerfsimInputError
from perfsim.spec.mla_figures import MLAFigures

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1.1)]

Phase = Literal["prefill", "decode"]
#: The field that holds each phase's own figure.
_PHASE_FIELD = {"prefill": "prefill_e", "decode": "decode_e_bw"}
_TILING = ("tile_q", "kv_half", "t_fixed_s", "min_query_rows", "softmax_cost_flops", "decode_item_s",
           "decode_max_group", "decode_head_item_s", "decode_reread_e_bw", "decode_split_cta_s")
#: Re-reads of a KV head other passes just streamed are served from L2, above HBM's rate.
Reread = Annotated[float, Field(gt=0, le=4.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImplementationFigures(_Strict):
    """Figures of one non-default implementation; see the module docstring for what is inherited."""

    source: str = Field(min_length=1)
    #: Implementation whose figures price the phases this entry gives none for (with the reason in
    #: `source`); None: such a phase is an error.
    same_as: str | None = None
    prefill_e: dict[str, Fraction] | None = None
    decode_e_bw: Fraction | None = None
    tile_q: Annotated[int, Field(gt=0)] | None = None
    kv_half: Positive | None = None
    t_fixed_s: NonNegative | None = None
    min_query_rows: Annotated[int, Field(ge=1)] | None = None
    softmax_cost_flops: NonNegative | None = None
    decode_item_s: NonNegative | None = None
    decode_max_group: Annotated[int, Field(ge=1)] | None = None
    decode_head_item_s: NonNegative | None = None
    decode_reread_e_bw: Reread | None = None
    decode_split_cta_s: NonNegative | None = None

    @field_validator("prefill_e")
    @classmethod
    def _fallback_entry(cls, prefill_e: dict[str, float] | None) -> dict[str, float] | None:
        return prefill_e if prefill_e is None else _with_fallback(prefill_e)


def _with_fallback(prefill_e: dict[str, float]) -> dict[str, float]:
    """A bf16 (or, on CPUs, fp32) entry, the one every other dtype falls back to."""
    if not {"bf16", "fp32"} & set(prefill_e):
        raise ValueError("list a 'bf16' (or, for a CPU, 'fp32') efficiency; other dtypes fall back to it")
    return prefill_e


class KvFp8Figures(_Strict):
    """How attention over an fp8 KV cache differs from a bf16 one; None: as the bf16 cache.

    The measured tables (aiconfigurator-core, H100) show fp8 caches are not just half the bytes:
    the kernel dequantises (or runs fp8 matrix ops) in its inner loop, and some runtimes (vLLM's
    FlashAttention backend) quantise the query to fp8 in a pass of their own before the kernel.
    """

    #: Prefill matrix efficiency with an fp8 cache, as a fraction of the attention dtype's dense
    #: peak (above 1 where the kernel runs QK^T and PV on fp8 matrix units at twice the rate).
    prefill_e: Annotated[float, Field(gt=0, le=2.2)] | None = None
    #: Pipeline-fill KV length with an fp8 cache (the dequantising inner loop is longer).
    kv_half: Positive | None = None
    #: Decode KV-stream efficiency with an fp8 cache (dequantisation in the inner loop).
    decode_e_bw: Fraction | None = None
    #: Decode seconds per (sequence, KV head) work item with an fp8 cache.
    decode_item_s: NonNegative | None = None
    #: Memory efficiency of a separate pass quantising the query to fp8 before the kernel (read
    #: the attention dtype, write one byte per element); None: no such pass (fused in the kernel).
    query_quant_e_bw: Fraction | None = None
    #: Decode seconds per split-KV CTA with an fp8 cache (see AttentionEfficiency).
    decode_split_cta_s: NonNegative | None = None


class AttentionEfficiency(_Strict):
    impl: str
    #: Fraction of dense peak reached by a long, well-occupied prefill attention kernel; a bf16 (or,
    #: on CPUs, fp32) entry is required, the one other dtypes fall back to.
    prefill_e: dict[str, Fraction]
    tile_q: Annotated[int, Field(gt=0)]
    #: KV length at which the inner loop reaches half its asymptotic throughput (pipeline fill).
    kv_half: Positive
    decode_e_bw: Fraction
    t_fixed_s: NonNegative
    #: Smallest query-row tile of the matrix unit (64 for Hopper wgmma/Ampere mma tiles in FA
    #: kernels; 1 on CPUs), so few-query decode still pays for a full tile of compute.
    min_query_rows: Annotated[int, Field(ge=1)] = 64
    #: Tensor-core FLOPs one attention score's exponential costs, because softmax runs on the
    #: special-function units at a small fraction of the matrix rate (H100: 989 TFLOP/s vs about
    #: 3.9 T exp/s, 256; A100: 312 vs 2.4, 128). It makes small head dims slower per FLOP and large
    #: ones faster. 0: scores are free (the prefill_e figure then absorbs the softmax).
    softmax_cost_flops: NonNegative = 0.0
    #: Decode: seconds per (sequence, KV head) work item beyond its KV stream (page-table walk,
    #: split-KV partial results and their combine); dominates large batches of short contexts.
    decode_item_s: NonNegative = 0.0
    #: Decode: most query heads one pass over a KV head serves (TensorRT-LLM's XQA kernels: 32,
    #: `head_grp_size > 32` is refused in decoderXQAImplJIT/kernelUtils.cpp). A larger group, and
    #: plain MHA, runs a per-query-head kernel (masked MHA) that streams its KV head once per query
    #: head. None: one pass serves any group (FlashAttention/FlashInfer split-KV decode).
    decode_max_group: Annotated[int, Field(ge=1)] | None = None
    #: Seconds per (sequence, query head) work item of that per-query-head kernel; None:
    #: decode_item_s.
    decode_head_item_s: NonNegative | None = None
    #: Rate of the per-query-head kernel's repeated reads of a KV head (all but the first pass,
    #: mostly L2 hits) as a fraction of HBM peak; None: decode_e_bw (each pass from HBM).
    decode_reread_e_bw: Reread | None = None
    #: Decode seconds per split-KV CTA of a kernel that splits the whole KV history (not just a
    #: sliding window's keys) into CTAs (TensorRT-LLM XQA; see perfsim.ops.attention); None: no
    #: such term (the split cost is inside decode_item_s and the KV stream).
    decode_split_cta_s: NonNegative | None = None
    #: Figures that differ when the KV cache is fp8.
    kv_fp8: KvFp8Figures = Field(default_factory=KvFp8Figures)
    #: Multi-head latent attention's own kernels (perfsim.spec.mla_figures).
    mla: MLAFigures = Field(default_factory=MLAFigures)
    #: Other implementations this device has figures for, keyed by name (runtimes choose one).
    implementations: dict[str, ImplementationFigures] = Field(default_factory=dict)
    _resolved: dict = PrivateAttr(default_factory=dict)

    @field_validator("prefill_e")
    @classmethod
    def _fallback_entry(cls, prefill_e: dict[str, float]) -> dict[str, float]:
        return _with_fallback(prefill_e)

    @model_validator(mode="after")
    def _same_as_known(self) -> AttentionEfficiency:
        known = self.available
        for name, entry in self.implementations.items():
            if name == self.impl:
                raise ValueError(f"implementations.{name}: the default implementation is described "
                                 f"by the fields above it, not listed again")
            if entry.same_as is not None and entry.same_as not in known:
                raise ValueError(f"implementations.{name}.same_as: {entry.same_as!r} is not one of "
                                 f"{', '.join(known)}")
        return self

    def prefill_e_for(self, dtype: str) -> float:
        """`dtype`'s prefill efficiency, else bf16's (same tensor path), else fp32's."""
        return self.prefill_e.get(dtype, self.prefill_e.get("bf16", self.prefill_e.get("fp32", 0.0)))

    def __eq__(self, other: object) -> bool:
        """Equal figures are equal efficiencies: the per-implementation cache is not part of the
        value (pydantic would compare it, so a profile that has priced a kernel would differ)."""
        if not isinstance(other, AttentionEfficiency):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # a dict field: never hashable

    @property
    def available(self) -> tuple[str, ...]:
        """The default implementation first, then the listed ones."""
        return (self.impl, *self.implementations)

    def has(self, impl: str | None, phase: Phase) -> bool:
        """Whether `impl` (None: the default) can be priced for `phase` on this device."""
        try:
            self._figure(impl, phase, ())
        except LookupError:
            return False
        return True

    def of(self, impl: str | None, phase: Phase, where: str = "") -> AttentionEfficiency:
        """The figures `impl` (None: the default) runs `phase` at: this object for the default.
        Raises PerfsimInputError naming `where` (the hardware profile) when there are none."""
        if impl is None or impl == self.impl:
            return self
        key = (impl, phase)
        hit = self._resolved.get(key)
        if hit is None:
            try:
                value = self._figure(impl, phase, ())
            except LookupError as exc:
                raise PerfsimInputError(f"{where or 'the hardware profile'} {exc.args[0]}") from None
            entry = self.implementations[impl]
            tiling = {f: getattr(entry, f) for f in _TILING if getattr(entry, f) is not None}
            hit = self.model_copy(update={"impl": impl, _PHASE_FIELD[phase]: value, **tiling,
                                          "implementations": {}})
            self._resolved[key] = hit
        return hit

    def _figure(self, impl: str | None, phase: Phase, seen: tuple[str, ...]):
        field = _PHASE_FIELD[phase]
        if impl is None or impl == self.impl:
            return getattr(self, field)
        entry = self.implementations.get(impl)
        if entry is None:
            raise LookupError(f"has no attention figures for implementation {impl!r} (it lists "
                              f"{', '.join(self.available)}); add them under attention.implementations "
                              f"with a source, or choose a runtime that uses one of those")
        value = getattr(entry, field)
        if value is not None:
            return value
        if entry.same_as is None or entry.same_as in seen:
            raise LookupError(f"lists attention implementation {impl!r} without a {phase} figure "
                              f"({field}) or a same_as to price {phase} with")
        return self._figure(entry.same_as, phase, (*seen, impl))
