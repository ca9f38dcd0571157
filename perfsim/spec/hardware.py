"""Hardware profiles: datasheet facts, uncalibrated efficiency priors and a calibration block.

The three parts are kept apart on purpose: datasheet numbers never change, priors are documented
guesses (hwprofiles/README.md says where each comes from), and only `perfsim.calibration.fit` writes
`calibration.fitted`, whose dotted paths override the priors in `HardwareProfile.efficiency_in_use`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from perfsim.errors import PerfsimInputError
from perfsim.spec.attention_impls import AttentionEfficiency
from perfsim.spec.base import _Strict
from perfsim.spec.calibration import Calibration, RuntimeCalibration, _mutable, efficiency_node
from perfsim.spec.gemm_figures import GemmEfficiency, MoEEfficiency
from perfsim.units import DTYPE_BYTES

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1.1)]  # >1 is legitimate when boost clock > spec clock


class Compute(_Strict):
    sm_count: Annotated[int, Field(gt=0)]
    clock_tensor_hz: Positive
    #: Dense (no 2:4 sparsity) peaks with FP32 accumulate, keyed by dtype.
    peak_dense_flops_per_s: dict[str, Positive]

    @model_validator(mode="after")
    def _known_dtypes(self) -> Compute:
        unknown = sorted(set(self.peak_dense_flops_per_s) - set(DTYPE_BYTES))
        if unknown:
            raise ValueError(f"unknown dtype(s) {unknown}; allowed: {', '.join(DTYPE_BYTES)}")
        if "bf16" not in self.peak_dense_flops_per_s and "fp16" not in self.peak_dense_flops_per_s:
            raise ValueError("peak_dense_flops_per_s needs at least a bf16 or fp16 entry")
        return self


class Memory(_Strict):
    capacity_label: str
    capacity_bytes: Positive
    #: Bytes a process can allocate (measured: CUDA total minus what the driver keeps).
    usable_bytes: Positive
    #: CUDA context, library workspaces and allocator slack that an engine cannot use.
    reserved_runtime_bytes: NonNegative
    peak_bw_bytes_per_s: Positive
    l2_bytes: Positive
    unified_with_host: bool = False

    @model_validator(mode="after")
    def _usable_within_capacity(self) -> Memory:
        if self.usable_bytes > self.capacity_bytes:
            raise ValueError(
                f"usable_bytes ({self.usable_bytes:.4g}) must be <= capacity_bytes "
                f"({self.capacity_bytes:.4g})"
            )
        if self.reserved_runtime_bytes >= self.usable_bytes:
            raise ValueError("reserved_runtime_bytes must be smaller than usable_bytes")
        return self


class Link(_Strict):
    type: str
    bw_bytes_per_s_per_dir: Positive
    latency_s: NonNegative
    domain_size: Annotated[int, Field(ge=1)] = 1


class Interconnect(_Strict):
    host_link: Link
    scale_up: Link | None = None


class Power(_Strict):
    tdp_w: Positive
    power_capped: bool = False


class MemoryEfficiency(_Strict):
    e_bw: Fraction
    t_fixed_s: NonNegative


class ScanEfficiency(_Strict):
    """Chunked SSM / linear-attention scans (Triton kernels in mamba-ssm and fla)."""

    e_flops: Fraction
    e_bw: Fraction
    t_fixed_s: NonNegative
    #: Latency of one step of the sequential inter-chunk state recurrence of a chunked prefill:
    #: with few (sequence, head) chains per SM the scan waits on this chain, not on FLOPs.
    #: None (the prior): one chunk's state-update products on one SM at `e_flops`; 0: no floor.
    chunk_step_s: NonNegative | None = None
    #: Per-SM seconds to start one (sequence, head) chain across the chunked prefill's kernels
    #: (offsets, cumsum, WY prep, state pass, output): paid per chain however short the prompt.
    #: 0: none (the prior for devices without measurements).
    chain_setup_s: NonNegative = 0.0
    #: The one-token recurrent decode kernel (a fused state update, not the chunked prefill
    #: kernels): its own state-stream efficiency and fixed cost; None: the figures above.
    decode_e_bw: Fraction | None = None
    decode_t_fixed_s: NonNegative | None = None
    #: Causal conv1d (perfsim.ops.causal_conv): the one-token decode update's own stream
    #: efficiency and fixed cost (None: the memory figures), and the per-SM seconds per
    #: (sequence, channel) row of the per-channel CUDA kernel (0: no such floor).
    conv_decode_e_bw: Fraction | None = None
    conv_decode_t_fixed_s: NonNegative | None = None
    conv_row_s: NonNegative = 0.0


class LaunchCosts(_Strict):
    host_per_kernel_s: NonNegative
    gpu_min_kernel_s: NonNegative
    graph_launch_s: NonNegative


class CommEfficiency(_Strict):
    allreduce_bus_eff: Fraction
    #: One peer synchronisation of a one-/two-shot all-reduce (flag exchange over the link and the
    #: kernel's own start); None: the link latency.
    allreduce_latency_s: NonNegative | None = None
    #: NCCL's ring at small messages: that synchronisation plus one step per peer (LL protocol
    #: hops); None: 2 (n - 1) link latencies.
    ring_step_s: NonNegative | None = None


class Efficiency(_Strict):
    gemm: GemmEfficiency
    memory: MemoryEfficiency
    attention: AttentionEfficiency
    scan: ScanEfficiency
    launch: LaunchCosts
    comm: CommEfficiency
    moe: MoEEfficiency = MoEEfficiency()


#: Re-exported: the calibration types live in perfsim.spec.calibration.
__all__ = ["Calibration", "HardwareProfile", "RuntimeCalibration", "efficiency_node"]

#: Top-level sections whose numbers are datasheet facts and so need a provenance entry.
_SOURCED_SECTIONS = ("compute", "memory", "interconnect", "power")


class HardwareProfile(_Strict):
    schema_version: Literal[1] = 1
    id: str
    display_name: str
    vendor: str
    arch: str
    form_factor: str
    power_mode: str = "default"
    #: Citation keys -> full reference (URL or document).
    sources: dict[str, str]
    #: Dotted field path -> "S1, S2" or "derived: <arithmetic>" for every datasheet number.
    provenance: dict[str, str]
    compute: Compute
    memory: Memory
    interconnect: Interconnect
    power: Power
    efficiency: Efficiency
    calibration: Calibration = Calibration()
    _efficiency_cache: Efficiency | None = PrivateAttr(default=None)
    _runtime_views: dict[str, HardwareProfile] = PrivateAttr(default_factory=dict)
    _applied_runtime: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _every_number_sourced(self) -> HardwareProfile:
        for path in _numeric_paths(self.model_dump(include=set(_SOURCED_SECTIONS))):
            if not any(path == p or path.startswith(p + ".") for p in self.provenance):
                raise ValueError(f"datasheet number '{path}' has no entry in provenance")
        for path, cite in self.provenance.items():
            if cite.startswith("derived:") or cite.startswith("measured:"):
                continue
            missing = [k.strip() for k in cite.split(",") if k.strip() not in self.sources]
            if missing:
                raise ValueError(f"provenance '{path}' cites unknown source key(s) {missing}")
        # every calibration must apply to valid figures: a bad fitted value fails here, at load,
        # not inside the first prediction priced with it
        priors = self.efficiency.model_dump()
        _with_fitted(priors, self.calibration.fitted, "calibration.fitted")
        for rid, runtime in self.calibration.runtimes.items():
            _with_fitted(priors, {**self.calibration.fitted, **runtime.fitted},
                         f"calibration.runtimes.{rid}.fitted")
        return self

    def for_runtime(self, runtime_id: str | None) -> HardwareProfile:
        """This profile priced with `runtime_id`'s calibration on top (itself when it has none); one
        view per runtime, kept, so that caches keyed on the profile (step plans) are reused."""
        own = self.calibration.runtimes.get(runtime_id) if runtime_id else None
        if own is None or runtime_id is None or runtime_id == self._applied_runtime:
            return self
        view = self._runtime_views.get(runtime_id)
        if view is None:
            fitted = {**self.calibration.fitted, **own.fitted}
            calibration = self.calibration.model_copy(update={"fitted": fitted})
            view = self.model_copy(update={"calibration": calibration})
            view._efficiency_cache = None  # model_copy carries the private caches of the priors over
            view._runtime_views, view._applied_runtime = {}, runtime_id
            self._runtime_views[runtime_id] = view
        return view

    @property
    def host_is_device(self) -> bool:
        """A CPU computes on the thread that dispatches: launch costs add, never overlap."""
        return self.form_factor == "cpu"

    def peak_flops(self, dtype: str) -> float:
        """Dense peak for a dtype; falls back only along documented equivalences (fp16<->bf16)."""
        peaks = self.compute.peak_dense_flops_per_s
        for candidate in (dtype, {"bf16": "fp16", "fp16": "bf16"}.get(dtype)):
            if candidate in peaks:
                return peaks[candidate]
        raise PerfsimInputError(
            f"hardware '{self.id}' has no {dtype} tensor peak (it lists {', '.join(peaks)}); "
            f"choose one of those dtypes for weights and activations."
        )

    @property
    def efficiency_in_use(self) -> Efficiency:
        """Priors with calibration.fitted applied on top (cached per profile instance)."""
        cached = self._efficiency_cache
        if cached is None:
            cached = _with_fitted(self.efficiency.model_dump(), self.calibration.fitted, "calibration.fitted")
            self._efficiency_cache = cached
        return cached


def _with_fitted(priors: dict[str, Any], fitted: dict[str, Any], where: str) -> Efficiency:
    """The efficiency figures `priors` with the fitted values set; a ValueError naming `where` and
    the bad path when a value is not a valid figure there."""
    data: dict[str, Any] = _mutable(priors)
    for path, value in fitted.items():
        efficiency_node(data, path)  # an unknown path is refused in its own sentence
        *parents, leaf = path.split(".")
        target = efficiency_node(data, ".".join(parents)) if parents else data
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value
    try:
        return Efficiency.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        bad = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where} sets '{bad}' to a value its field refuses: {first['msg']}") from None


def _numeric_paths(data: object, prefix: str = "") -> list[str]:
    if isinstance(data, bool) or data is None:
        return []
    if isinstance(data, int | float):
        return [prefix]
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _numeric_paths(v, f"{prefix}.{k}" if prefix else k)]
    return []
