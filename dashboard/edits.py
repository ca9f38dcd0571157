"""What-if edits of a model or a hardware profile, as new validated perfsim objects.

The dashboard never predicts anything itself: an edit produces a new ModelSpec or
HardwareProfile (validated by the library's own schema) and the library prices it. Edits are
pure functions so they can be tested without Streamlit.
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.spec.hardware import Calibration, HardwareProfile
from perfsim.spec.model import AttentionSpec, LinearAttentionSpec, Mamba2Spec, MLPSpec, ModelSpec, MoESpec
from perfsim.units import COMPUTE_DTYPE

#: Operator-mix choices: what replaces a share of the full-attention layers.
MIX_CHOICES = ("none", "sliding_window", "mamba2", "gated_deltanet")
MIX_LABELS = {
    "none": "keep all attention",
    "sliding_window": "sliding-window attention (4096)",
    "mamba2": "Mamba2 (SSD)",
    "gated_deltanet": "Gated DeltaNet",
}
#: Window of the sliding-window replacement (Gemma 2/3 and gpt-oss use 4096 or less).
SLIDING_WINDOW = 4096
_MIXERS = (AttentionSpec, Mamba2Spec, LinearAttentionSpec)


def compute_dtype(model: ModelSpec) -> str:
    """The tensor-core peak the model's GEMMs run at (the rule `perfsim.ops.Gemm` applies: the
    weights' type when weights and activations match, else the activations')."""
    weights, acts = model.dtypes.weights, model.dtypes.activations
    return COMPUTE_DTYPE[weights] if weights == acts else COMPUTE_DTYPE[acts]


def supports(hw: HardwareProfile, model: ModelSpec) -> str | None:
    """None if `hw` has a tensor peak for the model's compute dtype, else the library's sentence."""
    try:
        hw.peak_flops(compute_dtype(model))
    except ValueError as exc:
        return f"{exc}; pick other weight/activation dtypes or another device."
    return None


def layer_groups(model: ModelSpec) -> list[tuple[str, ...]]:
    """Sublayer names grouped into layers; each layer starts at a token mixer (its 'depth' unit)."""
    groups: list[list[str]] = []
    for name, spec in zip(model.sublayer_names, model.sublayers, strict=True):
        if isinstance(spec, _MIXERS) or not groups:
            groups.append([name])
        else:
            groups[-1].append(name)
    return [tuple(g) for g in groups]


def _blocks(groups: list[tuple[str, ...]]) -> list[dict]:
    """Consecutive identical layers folded into `repeat` blocks (readable when downloaded)."""
    blocks: list[dict] = []
    for group in groups:
        if blocks and tuple(blocks[-1]["ops"]) == group:
            blocks[-1]["repeat"] += 1
        else:
            blocks.append({"ops": list(group), "repeat": 1})
    return blocks


def _validated(data: dict, what: str) -> ModelSpec:
    """A structurally edited model: published parameter counts and benchmark scores belonged to
    the original, so they are dropped (accuracy then comes from the library's predictor)."""
    data.update(published_params=None, published_active_params=None)
    if "accuracy" in data:
        data["accuracy"] = None
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(what, exc) from None


def with_depth(model: ModelSpec, depth: int) -> ModelSpec:
    """`depth` token-mixer layers, sampled evenly from the original stack so a hybrid keeps its
    mix of layer types (dropping the last layers would drop a hybrid's late attention layers)."""
    if depth < 1:
        raise PerfsimInputError(f"depth must be at least 1 layer (got {depth}).")
    groups = layer_groups(model)
    if depth == len(groups):
        return model
    picks = np.round(np.linspace(0, len(groups) - 1, depth)).astype(int)
    data = model.model_dump()
    data.update(blocks=_blocks([groups[i] for i in picks]), layer_pattern=None, pattern_ops=None)
    return _validated(data, f"{model.id} with depth {depth}")


def _scaled(value: int, ratio: float, multiple: int = 64) -> int:
    """Round a scaled width to the original's granularity (64 when it was a multiple of 64)."""
    step = multiple if value % multiple == 0 else 1
    return max(step, int(round(value * ratio / step)) * step)


def _scale_operator(spec, ratio: float) -> dict:
    data = spec.model_dump()
    if isinstance(spec, AttentionSpec):  # keep head_dim and the GQA group size
        kv = max(1, int(round(spec.num_kv_heads * ratio)))
        data.update(num_kv_heads=kv, num_heads=kv * (spec.num_heads // spec.num_kv_heads))
    elif isinstance(spec, Mamba2Spec):
        g = spec.n_groups
        data["num_heads"] = max(g, int(round(spec.num_heads * ratio / g)) * g)
    elif isinstance(spec, LinearAttentionSpec):
        data["num_heads"] = max(1, int(round(spec.num_heads * ratio)))
    elif isinstance(spec, MLPSpec):
        data["intermediate_size"] = _scaled(spec.intermediate_size, ratio)
    elif isinstance(spec, MoESpec):
        data["expert_intermediate_size"] = _scaled(spec.expert_intermediate_size, ratio)
        if spec.shared_intermediate_size:
            data["shared_intermediate_size"] = _scaled(spec.shared_intermediate_size, ratio)
        if spec.latent_dim:
            data["latent_dim"] = _scaled(spec.latent_dim, ratio)
    return data


def with_width(model: ModelSpec, hidden_size: int) -> ModelSpec:
    """Hidden size `hidden_size`; heads, FFN and expert widths scale by the same ratio (head sizes
    and expert counts stay), as width-scaled model families do."""
    if hidden_size < 1:
        raise PerfsimInputError(f"hidden size must be at least 1 (got {hidden_size}).")
    if hidden_size == model.hidden_size:
        return model
    ratio = hidden_size / model.hidden_size
    data = model.model_dump()
    data.update(hidden_size=hidden_size,
                operators={n: _scale_operator(s, ratio) for n, s in model.operators.items()})
    return _validated(data, f"{model.id} with hidden size {hidden_size}")


def _replacement(model: ModelSpec, attn: AttentionSpec, kind: str) -> dict:
    if kind == "sliding_window":
        return {**attn.model_dump(), "window": min(SLIDING_WINDOW, model.max_context_len)}
    if kind == "mamba2":  # Nemotron-H shape: d_inner = 2 x hidden, 64-wide heads, state 128
        heads = max(1, 2 * model.hidden_size // 64)
        return {"type": "mamba2", "num_heads": heads, "head_dim": 64, "state_size": 128,
                "n_groups": 8 if heads % 8 == 0 else 1}
    if kind == "gated_deltanet":  # same heads and head size as the attention it replaces
        return {"type": "linear_attention", "variant": "gated_deltanet", "num_heads": attn.num_heads,
                "head_k_dim": attn.head_dim, "head_v_dim": attn.head_dim}
    raise PerfsimInputError(f"operator mix {kind!r} is not one of {', '.join(MIX_CHOICES)}.")


def with_mix(model: ModelSpec, kind: str, share: float) -> ModelSpec:
    """Replace `share` (0..1) of the full-attention layers by `kind`; the attention layers kept
    are spread evenly through the stack, as in Jamba / Nemotron-H style hybrids."""
    if kind == "none" or share <= 0:
        return model
    if not 0 <= share <= 1:
        raise PerfsimInputError(f"the share of attention layers replaced must be in 0..100 % (got "
                                f"{share * 100:g} %).")
    groups = layer_groups(model)
    full = [i for i, g in enumerate(groups)
            if isinstance(s := model.operators[g[0]], AttentionSpec) and s.window is None]
    if not full:
        raise PerfsimInputError(f"{model.id} has no full-attention layers to replace.")
    keep_n = len(full) - int(round(share * len(full)))
    keep = {full[i] for i in np.round(np.linspace(0, len(full) - 1, keep_n)).astype(int)} if keep_n else set()
    operators = {n: s.model_dump() for n, s in model.operators.items()}
    new_groups = []
    for i, group in enumerate(groups):
        if i in full and i not in keep:
            name = f"{group[0]}_{kind}"
            operators[name] = _replacement(model, model.operators[group[0]], kind)
            group = (name, *group[1:])
        new_groups.append(group)
    data = model.model_dump()
    data.update(operators=operators, blocks=_blocks(new_groups), layer_pattern=None, pattern_ops=None)
    used = {n for g in new_groups for n in g}
    data["operators"] = {n: s for n, s in operators.items() if n in used}
    return _validated(data, f"{model.id} with {share * 100:g} % {kind}")


def with_dtypes(model: ModelSpec, weights: str, activations: str, kv_cache: str) -> ModelSpec:
    """Storage/compute dtypes of weights, activations and KV cache."""
    current = model.dtypes
    if (weights, activations, kv_cache) == (current.weights, current.activations, current.kv_cache):
        return model
    data = model.model_dump()
    data["dtypes"] = {**current.model_dump(), "weights": weights, "activations": activations,
                      "kv_cache": kv_cache}
    try:  # same architecture: published counts and scores stay (quantisation assumed accuracy-neutral)
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(f"{model.id} dtypes", exc) from None


def edit_model(model: ModelSpec, *, depth: int, hidden_size: int, mix: str, mix_share: float,
               weights: str, activations: str, kv_cache: str) -> ModelSpec:
    """All model edits in a fixed order; an edited model gets an id that names its edits."""
    base = model
    model = with_mix(model, mix, mix_share)
    model = with_depth(model, depth)
    model = with_width(model, hidden_size)
    model = with_dtypes(model, weights, activations, kv_cache)
    if model is base:
        return model
    tags = []
    if depth != len(layer_groups(base)):
        tags.append(f"{depth}L")
    if hidden_size != base.hidden_size:
        tags.append(f"h{hidden_size}")
    if mix != "none" and mix_share > 0:
        tags.append(f"{mix_share * 100:g}%{mix}")
    if (weights, activations, kv_cache) != (base.dtypes.weights, base.dtypes.activations,
                                            base.dtypes.kv_cache):
        tags.append(f"w{weights}-a{activations}-kv{kv_cache}")
    name = f"{base.id}[{','.join(tags)}]"
    return model.model_copy(update={"id": name, "display_name": f"{base.display_name} (edited)"})


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
    if drop_calibration:
        data["calibration"] = Calibration().model_dump()
    data["provenance"] = provenance
    if any(changed.values()):
        data["id"] = f"{hw.id}-edited"
        data["display_name"] = f"{hw.display_name} (edited)"
    try:
        return HardwareProfile.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(f"edited {hw.id}", exc) from None
