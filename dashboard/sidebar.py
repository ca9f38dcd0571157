"""The sidebar: device, model, workload, deployment and decoding inputs -> one validated `Setup`.

Bad input never reaches a page as a traceback: each problem is one sentence shown once, under the
field that caused it; the main area only names the fields to fix, and pages compute nothing until
the sidebar is valid.
"""

from __future__ import annotations

import streamlit as st

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.dashboard import deploy, strategy
from perfsim.dashboard.edits import MIX_CHOICES, MIX_LABELS, edit_hardware, edit_model, layer_groups, supports
from perfsim.dashboard.fmt import gb, params
from perfsim.dashboard.form import Form, restore_from_url
from perfsim.dashboard.setup import Deployment, ReadySetup, Setup, is_ready
from perfsim.dashboard.uploads import BLOB_KEYS, digest, from_link, load_upload, to_link
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import list_ids
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

__all__ = ["KINDS", "ReadySetup", "Setup", "is_ready", "sidebar"]

HW_DEFAULT = "h100-sxm"
MODEL_DEFAULT = "qwen3-8b"
UPLOAD = "(upload a file)"
DTYPES = ("bf16", "fp16", "fp8", "int8", "fp4", "int4", "fp32")
#: Hidden sizes move in steps of this (head size and tensor-core tiles stay whole).
HIDDEN_STEP = 64
#: URL query parameter -> type; the parameter names are the widget keys.
KINDS: dict[str, type] = {
    "hw": str, "hw_cal": bool, "hw_tflops": float, "hw_bw": float, "hw_mem": float,
    "model": str, "depth": float, "hidden": float, "mix": str, "mix_pct": int,
    "w_dtype": str, "a_dtype": str, "kv_dtype": str, "batch": float, "prompt": float, "output": float,
    "model_spec": str, "hw_spec": str, **deploy.KINDS, **strategy.KINDS,
}


@st.cache_data(show_spinner=False, ttl=60)
def catalogue(kind: str) -> list[str]:
    """Bundled (and $PERFSIM_PATH) ids, listed once a minute rather than on every rerun."""
    return list_ids(kind)


def _base(form: Form, kind: str, key: str, options: list[str], default: str, label: str, types: list[str],
          help: str):
    """Preset select, upload, or an upload carried by the URL -> (object or None, identity)."""
    choice = form.select(label, [*options, UPLOAD], key, default, help=help)
    blob_key = BLOB_KEYS[kind]
    state = st.session_state
    if choice != UPLOAD:
        state.pop(blob_key, None)
        try:  # a preset (a broken YAML on $PERFSIM_PATH is reported like an upload)
            loader = perfsim.load_model if kind == "model" else perfsim.load_hardware
            return loader(choice), choice
        except PerfsimInputError as exc:
            form.error(key, str(exc))
            return None, None
    upload = form.box.file_uploader(f"{label} file", type=types, key=f"{key}_file")
    try:
        if upload is not None:
            data = upload.getvalue()
            obj = load_upload(kind, upload.name, data)
            state[blob_key] = to_link(obj)
        elif state.get(blob_key):
            obj = from_link(kind, state[blob_key])
            form.box.caption(f"{obj.id}: uploaded earlier, carried by this link.")
        else:
            form.error(key, f"Upload a {' or '.join(types)} file, or pick a preset {label.lower()}.")
            return None, None
    except PerfsimInputError as exc:
        form.error(key, str(exc))
        return None, None
    form.values[blob_key] = state[blob_key]
    form.defaults[blob_key] = ""
    return obj, digest(state[blob_key])


def _hardware(form: Form) -> HardwareProfile | None:
    base, identity = _base(form, "hardware", "hw", catalogue("hwprofiles"), HW_DEFAULT, "Device",
                           ["yaml", "yml"], "a bundled profile, or a perfsim hardware YAML (e.g. one "
                           "written by `perfsim calibrate`)")
    if base is None:
        return None
    calibrated = base.calibration.calibrated
    form.bind_defaults("hw", identity, {
        "hw_tflops": base.peak_flops("bf16") / 1e12, "hw_bw": base.memory.peak_bw_bytes_per_s / 1e12,
        "hw_mem": base.memory.capacity_bytes / 1e9, "hw_cal": calibrated})
    with form.inside(form.box.expander("Edit device")):
        tflops = form.number("Peak dense bf16 (TFLOP/s)", "hw_tflops", None, min_value=0.001, max_value=1e6,
                             step=10.0, fmt="%.1f", help="other dtype peaks scale by the same ratio")
        bw = form.number("Memory bandwidth (TB/s)", "hw_bw", None, min_value=0.001, max_value=1e3, step=0.05,
                         fmt="%.3f")
        mem = form.number("Memory capacity (GB)", "hw_mem", None, min_value=0.1, max_value=1e5, step=1.0,
                          fmt="%.1f", help="usable memory scales with capacity; the runtime reserve stays")
        use_cal = form.checkbox("Use calibrated efficiencies", "hw_cal", calibrated, disabled=not calibrated,
                                help="fitted by `perfsim calibrate`; off = the profile's documented priors"
                                if calibrated else "this profile has no calibration block yet "
                                "(run `perfsim calibrate` on the device)")
    if None in (tflops, bw, mem):
        return None
    assert tflops is not None and bw is not None and mem is not None  # for the type checker
    try:
        hw = edit_hardware(base, peak_bf16_flops=tflops * 1e12, bandwidth=bw * 1e12,
                           capacity_bytes=mem * 1e9, calibrated=use_cal)
    except PerfsimInputError as exc:
        form.error("hw_mem", str(exc))
        return None
    form.box.caption(f"{hw.display_name}: {hw.peak_flops('bf16') / 1e12:,.0f} TFLOP/s bf16, "
                     f"{hw.memory.peak_bw_bytes_per_s / 1e12:,.2f} TB/s, "
                     f"{gb(hw.memory.usable_bytes)} usable.")
    return hw


def _model(form: Form, hw: HardwareProfile | None) -> ModelSpec | None:
    base, identity = _base(form, "model", "model", catalogue("models"), MODEL_DEFAULT, "Model",
                           ["json", "yaml", "yml"], "a bundled model, a Hugging Face config.json or a "
                           "perfsim model YAML")
    if base is None:
        return None
    form.bind_defaults("model", identity, {
        "depth": len(layer_groups(base)), "hidden": base.hidden_size, "mix": "none", "mix_pct": 50,
        "w_dtype": base.dtypes.weights, "a_dtype": base.dtypes.activations, "kv_dtype": base.dtypes.kv_cache})
    with form.inside(form.box.expander("Edit model", expanded=True)):
        depth = form.number("Depth (token-mixer layers)", "depth", None, min_value=1, max_value=1024,
                            whole=True)
        hidden = form.number("Hidden size", "hidden", None, min_value=HIDDEN_STEP, max_value=65536,
                             step=HIDDEN_STEP, whole=True,
                             help="heads, FFN and expert widths scale with it; head size stays")
        if hidden is not None and hidden % HIDDEN_STEP:
            form.error("hidden", f"Hidden size must be a multiple of {HIDDEN_STEP} (got {hidden:,}).")
            hidden = None
        mix = form.select("Replace attention layers with", MIX_CHOICES, "mix", "none",
                          format_func=MIX_LABELS.__getitem__)
        share = 0
        if mix != "none":
            share = form.slider("Share of attention layers replaced (%)", "mix_pct", 50, min_value=0,
                                max_value=100, step=5)
        dtypes = [form.select(label, DTYPES, key, None) for key, label in (
            ("w_dtype", "Weights dtype"), ("a_dtype", "Activations dtype"), ("kv_dtype", "KV-cache dtype"))]
    if depth is None or hidden is None:
        return None
    try:
        model = edit_model(base, depth=depth, hidden_size=hidden, mix=mix, mix_share=share / 100,
                           weights=dtypes[0], activations=dtypes[1], kv_cache=dtypes[2])
    except PerfsimInputError as exc:
        form.error("model", str(exc))
        return None
    counts = perfsim.model_params(model)
    form.box.caption(f"{model.id}: {params(counts.total)} parameters ({params(counts.active)} active), "
                     f"{model.num_mixer_layers} mixer layers, KV cache "
                     f"{kv_bytes_per_seq(model, 1) / 1024:,.0f} KiB/token, context up to "
                     f"{model.max_context_len:,} tokens.")
    if hw is not None and (problem := supports(hw, model)):
        form.error("a_dtype", problem)
    return model


def _workload(form: Form, model: ModelSpec | None) -> tuple[int, int, int] | None:
    values = [form.number(label, key, default, min_value=1, max_value=10_000_000, whole=True)
              for key, label, default in (("batch", "Batch (sequences)", 1),
                                          ("prompt", "Prompt tokens", 1024),
                                          ("output", "Output tokens", 256))]
    if None in values:
        return None
    batch, prompt, output = (int(v) for v in values if v is not None)
    if model is not None:
        total = prompt + output + model.prefix_tokens
        if total > model.max_context_len:
            form.error("output", f"Prompt + output = {total:,} tokens is beyond the {model.max_context_len:,}"
                                 f"-token context limit (max_context_len) of {model.id}; shorten them.")
    return batch, prompt, output


def sidebar() -> tuple[Setup, Form]:
    """Render the sidebar and return the what-if it describes (errors shown next to fields)."""
    box = st.sidebar
    problems = restore_from_url(st.query_params.to_dict(), KINDS)
    form = Form(box)
    box.header("What if…")
    for note in problems:
        box.warning(note)
    box.subheader("Device")
    hw = _hardware(form)
    box.subheader("Model")
    model = _model(form, hw)
    box.subheader("Workload")
    workload = _workload(form, model)
    box.subheader("Deployment")
    deployment = deploy.deployment(form, hw, model)
    box.subheader("Decoding")
    decoding = strategy.decoding(form, model)
    for note in form.notes:
        box.warning(note)
    form.mirror_to_url(KINDS)
    batch, prompt, output = workload or (0, 0, 0)  # None only with a sentence under its field
    setup = Setup(model=model, hardware=hw, batch=batch, prompt_len=prompt, output_len=output,
                  decoding=decoding, deploy=deployment or Deployment(), values=dict(form.values),
                  errors=dict(form.errors), labels=dict(form.labels))
    return setup, form
