"""Efficiency figures of GEMMs, the activation quantisation an fp8 linear runs first, and fused
MoE modules (`efficiency.gemm` and `efficiency.moe` in a profile).

Kept apart from perfsim.spec.hardware so the profile schema stays one module per idea; every
field here defaults to "no such term" so profiles without measurements price as before.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import Field, field_validator

from perfsim.spec.base import _Strict

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1.1)]  # >1 is legitimate when boost clock > spec clock


class QuantKernelFigures(_Strict):
    """The bf16 -> fp8 quantisation of a linear's input activation, a memory-bound kernel of its
    own. Runtimes launch it with one thread block per token, so a wide batch of narrow rows is
    bounded by how fast blocks are issued, not by bytes: `row_s` per token, whatever the width."""

    #: Streaming efficiency of the pass; None: the memory kernels' (memory.e_bw).
    e_bw: Fraction | None = None
    #: Seconds per token row (block issue and per-row reduction); 0: bytes alone.
    row_s: NonNegative = 0.0
    #: Fixed cost per kernel of the pass; None: the memory kernels' (memory.t_fixed_s).
    t_fixed_s: NonNegative | None = None


class GemmEfficiency(_Strict):
    """Wave-quantised GEMM model (hardware.md section 5): e_max x wave x k-pipeline utilisation."""

    e_max: dict[str, Fraction]
    #: Candidate CTA tiles [tile_m, tile_n, relative efficiency]; the kernel picks the fastest,
    #: as cuBLAS heuristics do. Smaller tiles have lower arithmetic intensity per SMEM byte.
    tiles: list[tuple[int, int, Fraction]]
    k_half: Positive
    #: Ramp-up, prologue/epilogue and inter-kernel gap of one GEMM kernel.
    t_fixed_s: NonNegative
    #: Streaming efficiency of operand loads when the GEMM is bandwidth-bound.
    e_bw: Fraction
    #: Streaming efficiency of single-row (M = 1) products, which BLAS libraries run as GEMV
    #: kernels without operand packing (on CPUs about twice the tiled path's); None = e_bw.
    gemv_e_bw: Fraction | None = None
    max_split_k: Annotated[int, Field(ge=1)] = 8
    #: Memory-level parallelism of one CTA: a tiled kernel with few output tiles cannot pull the
    #: whole chip's bandwidth, one CTA streams at most this many SMs' fair share (peak / SMs), so
    #: a narrow fp8 GEMM (no split-K in CUTLASS or DeepGEMM) with 2 tiles of 128 columns streams
    #: its weights slowly. None: no such cap (every tiling reaches the bandwidth roof).
    cta_bw_share: Positive | None = None
    #: Block-scaled fp8 (a scale per 128 x 128 weight block and per 1 x 128 activation group)
    #: main loops relative to per-tensor fp8: each 128-deep K block's tensor-core partial sums
    #: are rescaled and added on the CUDA cores (DeepGEMM's "promotion"), which costs issue slots.
    block_scaled_e: Fraction = 1.0
    #: Activation quantisation before per-tensor and before block-scaled fp8 GEMMs.
    quant_tensor: QuantKernelFigures = Field(default_factory=QuantKernelFigures)
    quant_block: QuantKernelFigures = Field(default_factory=QuantKernelFigures)

    @field_validator("e_max")
    @classmethod
    def _e_max(cls, e_max: dict[str, float]) -> dict[str, float]:
        """A bf16 (or, on CPUs, fp32) entry: the efficiency every other dtype falls back to."""
        if not {"bf16", "fp32"} & set(e_max):
            raise ValueError("list a 'bf16' (or, for a CPU, 'fp32') efficiency; other dtypes fall back to it")
        return e_max

    def e_for(self, dtype: str) -> float:
        """`dtype`'s large-GEMM efficiency, else bf16's (same tensor path), else fp32's."""
        return self.e_max.get(dtype, self.e_max.get("bf16", self.e_max.get("fp32", 0.0)))

    def quant(self, scaling: str) -> QuantKernelFigures:
        """The quantisation kernel's figures for "tensor" or "block" scaling."""
        return self.quant_block if scaling == "block" else self.quant_tensor

    @field_validator("tiles")
    @classmethod
    def _tiles(cls, tiles: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        """At least one tile, each side 1..4096 (a zero side divided by zero in wave quantisation)."""
        if not tiles:
            raise ValueError("list at least one tile [tile_m, tile_n, relative efficiency]")
        for tile_m, tile_n, _ in tiles:
            if not (1 <= tile_m <= 4096 and 1 <= tile_n <= 4096):
                raise ValueError(f"tile sides must be from 1 to 4096 (got [{tile_m}, {tile_n}])")
        return tiles


class MoEPathFigures(_Strict):
    """A fused-MoE path's own figures; None: the module's shared ones."""

    grouped_gemm_e: Fraction | None = None
    mainloop_e: Fraction | None = None
    t_fixed_s: NonNegative | None = None
    expert_s: NonNegative | None = None


class MoEPath(NamedTuple):
    """The figures one fused-MoE module is priced with (MoEEfficiency.path)."""

    grouped_gemm_e: float
    mainloop_e: float
    t_fixed_s: float
    expert_s: float


#: Fused-MoE kernel runners with figures of their own (perfsim.ops.MoE.runner); "fused" is the
#: runtime's default grouped-GEMM kernel and uses the shared figures.
MOE_RUNNERS = ("fused", "flashinfer_cutlass")


class MoEEfficiency(_Strict):
    """Fused-MoE modules relative to the dense GEMM model: grouped GEMMs over ragged per-expert
    token counts run below a dense GEMM of the same padded tiles, and the module adds its own
    fixed cost (routing metadata, alignment). Defaults are the dense model's, except the main loop."""

    #: Both grouped GEMMs' time is divided by this (weight streaming and main loop alike).
    grouped_gemm_e: Fraction = 1.0
    #: The grouped main loop's peak relative to the dense GEMM's, on top: a kernel that streams
    #: expert weights well can still multiply slowly once tokens per expert make it compute-bound
    #: (block-scaled promotion, tiles tuned for decode). Prior 0.8: the median of the shared figure
    #: fitted on aiconfigurator-core 0.12.0's MoE tables (H100 vLLM 0.79, SGLang 0.80, TensorRT-LLM
    #: 0.90; A100 SGLang 0.61; benchmarks/fidelity_kernels.py).
    mainloop_e: Fraction = 0.8
    t_fixed_s: NonNegative = 0.0
    #: Seconds per expert that receives tokens, whatever its token count: the grouped GEMMs set
    #: up, fill and drain one problem per expert (FlashInfer's CUTLASS runner on H100: ~1.8 us per
    #: expert, 0.45 ms for 256 experts of 16 columns where the weights take 2 us to read).
    expert_s: NonNegative = 0.0
    #: fp8 experts run kernel paths of their own (vLLM's per-tensor one: FlashInfer's CUTLASS
    #: runner, measured several times slower than its bf16 Triton path; block-scaled: a scale per
    #: 128 x 128 block)
    per_tensor_fp8: MoEPathFigures = Field(default_factory=MoEPathFigures)
    block_fp8: MoEPathFigures = Field(default_factory=MoEPathFigures)
    #: FlashInfer's CUTLASS MoE runner where a runtime picks it for bf16 experts (SGLang 0.5 for
    #: non-gated relu2 experts): ~3x the Triton kernel's time on H100 at every token count.
    flashinfer_cutlass: MoEPathFigures = Field(default_factory=MoEPathFigures)

    def path(self, scaling: str, runner: str = "fused") -> MoEPath:
        """The figures of experts with weights scaled per `scaling` ("tensor", "block"; anything
        else: the shared figures), run by `runner` (one of MOE_RUNNERS; its own figures first)."""
        layers = [{"tensor": self.per_tensor_fp8, "block": self.block_fp8}.get(scaling, MoEPathFigures())]
        if runner == "flashinfer_cutlass":
            layers.insert(0, self.flashinfer_cutlass)

        def pick(field: str, shared: float) -> float:
            values = [getattr(layer, field) for layer in layers if getattr(layer, field) is not None]
            return values[0] if values else shared

        return MoEPath(pick("grouped_gemm_e", self.grouped_gemm_e), pick("mainloop_e", self.mainloop_e),
                       pick("t_fixed_s", self.t_fixed_s), pick("expert_s", self.expert_s))
