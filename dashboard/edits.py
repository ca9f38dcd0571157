"""What-if edits of a model or a hardware profile, as new validated perfsim objects.

The dashboard never predicts or edits anything itself: a model edit is a list of
`perfsim.transforms` (depth, width, hybridise, dtypes), so the dashboard, design generators and
variant files agree on what "half the layers" or "half the attention as Mamba2" means; a
hardware edit produces a new HardwareProfile. Edits are pure functions so they can be tested
without Streamlit.
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from perfsim.errors import describe_validation_error
from perfsim.spec.hardware import Calibration, HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.transforms import (
    ActivationDType,
    Depth,
    Hybridise,
    KVCacheDType,
    Transform,
    WeightDType,
    Width,
    apply_transforms,
    num_layers,
)
from perfsim.transforms.layout import layer_spans
from perfsim.transforms.sizing import SWA_WINDOW
from perfsim.units import COMPUTE_DTYPE

#: Operator-mix choices: what replaces a share of the full-attention layers (the hybridise transform).
MIX_CHOICES = ("none", "sliding_window", "mamba2", "gated_deltanet")
MIX_LABELS = {
    "none": "keep all attention",
    "sliding_window": f"sliding-window attention ({SWA_WINDOW})",
    "mamba2": "Mamba2 (SSD)",
    "gated_deltanet": "Gated DeltaNet",
}


def compute_dtype(model: ModelSpec) -> str:
    """The tensor-core peak the model's GEMMs run at (the rule `perfsim.ops.Gemm` applies: the
    weights' type when weights and activations match, else the activations')."""
    weights, acts = model.dtypes.weights, model.dtypes.activations
    return COMPUTE_DTYPE[weights] if weights == acts else COMPUTE_DTYPE[acts]


def supports(hw: HardwareProfile, model: ModelSpec) -> str | None:
    """None if `hw` has a tensor peak for the model's compute dtype, else the library's sentence."""
    dtype = compute_dtype(model)
    try:
        hw.peak_flops(dtype)
    except ValueError:
        peaks = ", ".join(hw.compute.peak_dense_flops_per_s)
        return (f"{hw.id} has no {dtype} tensor-core peak (it lists {peaks}); pick weight and activation "
                f"dtypes among those, or another device.")
    return None


def layer_groups(model: ModelSpec) -> list[tuple[str, ...]]:
    """Sublayer names grouped into layers as the transforms count them (a token mixer or its linear
    stand-in, and the FFNs after it): the unit the depth edit adds or removes."""
    names = model.sublayer_names
    return [tuple(names[p] for p in span) for span in layer_spans(model)]


def _one(model: ModelSpec, step: Transform) -> ModelSpec:
    """`model` after one transform, keeping its id (the sweep view names its grid points itself)."""
    out = step.apply(model)
    if out is model:
        return model
    return apply_transforms(model, [step], id=model.id, display_name=model.display_name)


def with_depth(model: ModelSpec, depth: int) -> ModelSpec:
    """`depth` layers resampled evenly from the stack, keeping a hybrid's mix (transform `depth`)."""
    return _one(model, Depth(depth))


def with_width(model: ModelSpec, hidden_size: int) -> ModelSpec:
    """Hidden size `hidden_size` with heads, FFN and expert widths scaled alike (transform `width`)."""
    return _one(model, Width(hidden_size))


def with_mix(model: ModelSpec, kind: str, share: float) -> ModelSpec:
    """`share` (0..1) of the full-attention layers replaced by `kind` (transform `hybridise`)."""
    return model if kind == "none" else _one(model, Hybridise(kind, share))


def model_edits(model: ModelSpec, *, depth: int, hidden_size: int, mix: str, mix_share: float,
                weights: str, activations: str, kv_cache: str) -> tuple[list[Transform], list[str]]:
    """The transforms the edit form asks for (only those that change something), in a fixed
    order, with a short tag for each for the edited model's id."""
    steps: list[tuple[Transform, str]] = []
    if mix != "none" and mix_share > 0:
        steps.append((Hybridise(mix, mix_share), f"{mix_share * 100:g}%{mix}"))
    if depth != num_layers(model):
        steps.append((Depth(depth), f"{depth}L"))
    if hidden_size != model.hidden_size:
        steps.append((Width(hidden_size), f"h{hidden_size}"))
    current = model.dtypes
    dtypes = [(WeightDType, weights, current.weights), (ActivationDType, activations, current.activations),
              (KVCacheDType, kv_cache, current.kv_cache)]
    if any(new != old for _, new, old in dtypes):
        tag = f"w{weights}-a{activations}-kv{kv_cache}"
        steps.extend((cls(new), tag) for cls, new, old in dtypes if new != old)
    return [s for s, _ in steps], list(dict.fromkeys(t for _, t in steps))


def edit_model(model: ModelSpec, **edits) -> ModelSpec:
    """The model after the edit form's transforms (see `model_edits`); an edited model records them
    in `applied_transforms` and gets an id that names its edits."""
    steps, tags = model_edits(model, **edits)
    if not steps:
        return model
    return apply_transforms(model, steps, id=f"{model.id}[{','.join(tags)}]",
                            display_name=f"{model.display_name} (edited)")


def edit_hardware(hw: HardwareProfile, *, peak_bf16_flops: float, bandwidth: float, capacity_bytes: float,
                  calibrated: bool) -> HardwareProfile:
    """A profile with edited datasheet numbers (all dtype peaks scale with the bf16 one; usable
    memory scales with capacity) and with or without its calibration block."""
    changed = {
        "peak": not np.isclose(peak_bf16_flops, hw.peak_flops("bf16")),
        "bw": not np.isclose(bandwidth, hw.memory.peak_bw_bytes_per_s),
        "mem": not np.isclose(capacity_bytes, hw.memory.capacity_bytes),
    }
    drop_calibration = not calibrated and hw.calibration.calibrated
    if not any(changed.values()) and not drop_calibration:
        return hw
    data = hw.model_dump()
    provenance = dict(data["provenance"])
    note = "derived: edited in the perfsim dashboard"
    if changed["peak"]:
        ratio = peak_bf16_flops / hw.peak_flops("bf16")
        peaks = {k: v * ratio for k, v in hw.compute.peak_dense_flops_per_s.items()}
        data["compute"]["peak_dense_flops_per_s"] = peaks
        provenance.update({f"compute.peak_dense_flops_per_s.{k}": note for k in peaks})
    if changed["bw"]:
        data["memory"]["peak_bw_bytes_per_s"] = bandwidth
        provenance["memory.peak_bw_bytes_per_s"] = note
    if changed["mem"]:
        ratio = capacity_bytes / hw.memory.capacity_bytes
        data["memory"]["capacity_bytes"] = capacity_bytes
        data["memory"]["usable_bytes"] = hw.memory.usable_bytes * ratio
        data["memory"]["capacity_label"] = f"{capacity_bytes / 1e9:.4g} GB (edited)"
        provenance.update({"memory.capacity_bytes": note, "memory.usable_bytes": note})
    if drop_calibration:  # back to the priors; other calibration entries (e.g. per runtime) stay
        data["calibration"] = {**data["calibration"], "calibrated": False,
                               "fitted": Calibration().fitted, "fit_quality": Calibration().fit_quality}
    data["provenance"] = provenance
    if any(changed.values()):
        data["id"] = f"{hw.id}-edited"
        data["display_name"] = f"{hw.display_name} (edited)"
    try:
        return HardwareProfile.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(f"edited {hw.id}", exc) from None
