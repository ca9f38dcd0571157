"""The sidebar: device, model, workload and decoding inputs -> one validated `Setup`.

Bad input never reaches a page as a traceback: each problem is one sentence shown under the
field that caused it, and pages compute nothing until the sidebar is valid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeGuard

import streamlit as st
from pydantic import ValidationError

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.dashboard.edits import MIX_CHOICES, MIX_LABELS, edit_hardware, edit_model, layer_groups, supports
from perfsim.dashboard.fmt import gb, params
from perfsim.dashboard.form import Form, restore_from_url
from perfsim.decoding import BlockDiffusion, DecodingStrategy, Speculative, TiDAR, make_decoding
from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.io.catalog import list_ids, parse_yaml
from perfsim.io.hf_import import model_from_hf_config
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

HW_DEFAULT = "h100-sxm"
MODEL_DEFAULT = "qwen3-8b"
UPLOAD = "(upload a file)"
DTYPES = ("bf16", "fp16", "fp8", "int8", "fp4", "int4", "fp32")
DECODINGS = {"autoregressive": "Autoregressive", "speculative": "Speculative (draft + verify)",
             "block_diffusion": "Block diffusion", "tidar": "TiDAR"}
#: URL query parameter -> type; the parameter names are the widget keys.
KINDS: dict[str, type] = {
    "hw": str, "hw_cal": bool, "hw_tflops": float, "hw_bw": float, "hw_mem": float,
    "model": str, "depth": int, "hidden": int, "mix": str, "mix_pct": int,
    "w_dtype": str, "a_dtype": str, "kv_dtype": str, "batch": int, "prompt": int, "output": int,
    "decoding": str, "spec_draft": str, "spec_k": int, "spec_acc": float,
    "diff_block": int, "diff_sub": int, "diff_tps": float, "tidar_draft": int, "tidar_tpf": float,
}


@dataclass(frozen=True)
class Setup:
    """The validated what-if that every page computes from."""

    model: ModelSpec | None
    hardware: HardwareProfile | None
    batch: int
    prompt_len: int
    output_len: int
    decoding: DecodingStrategy | None
    values: dict = field(default_factory=dict)  # URL-able widget values, for the download
    errors: dict = field(default_factory=dict)  # widget key -> sentence shown under it

    @property
    def ok(self) -> bool:
        """Every input valid and every object built: pages may compute."""
        return not self.errors and None not in (self.model, self.hardware, self.decoding)

    @cached_property
    def key(self) -> str:
        """Digest of the model and device descriptions: the cache key of every computation."""
        assert self.model is not None and self.hardware is not None  # only asked once `ok`
        text = self.model.model_dump_json() + self.hardware.model_dump_json()
        return hashlib.sha1(text.encode()).hexdigest()[:16]


class ReadySetup(Setup):
    """A Setup that is `ok`: model, hardware and decoding are all built. The type `is_ready`
    narrows a Setup to, so pages and `runs` need no None checks; never instantiated."""

    model: ModelSpec
    hardware: HardwareProfile
    decoding: DecodingStrategy


def is_ready(setup: Setup) -> TypeGuard[ReadySetup]:
    """`setup.ok`, telling the type checker that model, hardware and decoding are set."""
    return setup.ok


def payload(setup: Setup, result: perfsim.RequestResult | None) -> str:
    """JSON of the what-if (widget values, resolved ids, decoding) and its headline results."""
    return json.dumps({
        "config": setup.values,
        "model": setup.model.id if setup.model else None,
        "hardware": setup.hardware.id if setup.hardware else None,
        "decoding": setup.decoding.describe() if setup.decoding else None,
        "results": result.to_dict() if result is not None else None,
        "errors": setup.errors,
    }, indent=2, default=str)


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:12]


def load_upload(kind: str, name: str, data: bytes) -> ModelSpec | HardwareProfile:
    """A model (HF config.json or perfsim YAML) or a device profile (perfsim YAML) from bytes."""
    text = data.decode("utf-8", errors="replace")
    if kind == "model" and name.endswith(".json"):
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PerfsimInputError(f"{name}: malformed JSON at line {exc.lineno}.") from None
        if not isinstance(config, dict):
            raise PerfsimInputError(f"{name}: expected a JSON object of config keys.")
        return model_from_hf_config(config, source=name)
    schema = ModelSpec if kind == "model" else HardwareProfile
    try:
        return schema.model_validate(parse_yaml(name, text))
    except ValidationError as exc:
        raise describe_validation_error(name, exc) from None


def _base(form: Form, kind: str, key: str, options: list[str], default: str, label: str, types: list[str],
          help: str):
    """Preset select (or upload) -> (loaded object or None, identity for preset defaults)."""
    choice = form.select(label, [*options, UPLOAD], key, default, help=help)
    upload = None
    if choice == UPLOAD:
        upload = form.box.file_uploader(f"{label} file", type=types, key=f"{key}_file")
        if upload is None:
            form.error(key, f"Upload a {' or '.join(types)} file, or pick a preset {label.lower()}.")
            return None, None
    try:
        if upload is None:  # a preset (a broken YAML on $PERFSIM_PATH is reported like an upload)
            loader = perfsim.load_model if kind == "model" else perfsim.load_hardware
            return loader(choice), choice
        data = upload.getvalue()
        return load_upload(kind, upload.name, data), _digest(data)
    except PerfsimInputError as exc:
        form.error(key, str(exc))
        return None, None


def _hardware(form: Form) -> HardwareProfile | None:
    base, identity = _base(form, "hardware", "hw", list_ids("hwprofiles"), HW_DEFAULT, "Device",
                           ["yaml", "yml"], "a bundled profile, or a perfsim hardware YAML (e.g. one "
                           "written by `perfsim calibrate`)")
    if base is None:
        return None
    calibrated = base.calibration.calibrated
    form.bind_defaults("hw", identity, {
        "hw_tflops": base.peak_flops("bf16") / 1e12, "hw_bw": base.memory.peak_bw_bytes_per_s / 1e12,
        "hw_mem": base.memory.capacity_bytes / 1e9, "hw_cal": calibrated})
    with form.inside(form.box.expander("Edit device")):
        tflops = form.number("Peak dense bf16 (TFLOP/s)", "hw_tflops", None, min_value=0.001, step=10.0,
                             fmt="%.1f", help="other dtype peaks scale by the same ratio")
        bw = form.number("Memory bandwidth (TB/s)", "hw_bw", None, min_value=0.001, step=0.05, fmt="%.3f")
        mem = form.number("Memory capacity (GB)", "hw_mem", None, min_value=0.1, step=1.0, fmt="%.1f",
                          help="usable memory scales with capacity; the runtime reserve stays")
        use_cal = form.checkbox("Use calibrated efficiencies", "hw_cal", calibrated, disabled=not calibrated,
                                help="fitted by `perfsim calibrate`; off = the profile's documented priors"
                                if calibrated else "this profile has no calibration block yet "
                                "(run `perfsim calibrate` on the device)")
    try:
        hw = edit_hardware(base, peak_bf16_flops=tflops * 1e12, bandwidth=bw * 1e12,
                           capacity_bytes=mem * 1e9, calibrated=use_cal)
    except PerfsimInputError as exc:
        form.error("hw_mem", str(exc))
        return None
    form.box.caption(f"{hw.display_name}: {hw.peak_flops('bf16') / 1e12:,.0f} TFLOP/s bf16, "
                     f"{hw.memory.peak_bw_bytes_per_s / 1e12:,.2f} TB/s, {gb(hw.memory.usable_bytes)} "
                     f"usable; {'calibrated' if hw.calibration.calibrated else 'uncalibrated priors'}.")
    return hw


def _model(form: Form, hw: HardwareProfile | None) -> ModelSpec | None:
    base, identity = _base(form, "model", "model", list_ids("models"), MODEL_DEFAULT, "Model",
                           ["json", "yaml", "yml"], "a bundled model, a Hugging Face config.json or a "
                           "perfsim model YAML")
    if base is None:
        return None
    form.bind_defaults("model", identity, {
        "depth": len(layer_groups(base)), "hidden": base.hidden_size, "mix": "none", "mix_pct": 50,
        "w_dtype": base.dtypes.weights, "a_dtype": base.dtypes.activations, "kv_dtype": base.dtypes.kv_cache})
    with form.inside(form.box.expander("Edit model", expanded=True)):
        depth = form.number("Depth (token-mixer layers)", "depth", None, min_value=1, max_value=1024, step=1)
        hidden = form.number("Hidden size", "hidden", None, min_value=64, max_value=65536, step=64,
                             help="heads, FFN and expert widths scale with it; head size stays")
        mix = form.select("Replace attention layers with", MIX_CHOICES, "mix", "none",
                          format_func=MIX_LABELS.__getitem__)
        share = 0
        if mix != "none":
            share = form.slider("Share of attention layers replaced (%)", "mix_pct", 50, min_value=0,
                                max_value=100, step=5)
        dtypes = [form.select(label, DTYPES, key, None) for key, label in (
            ("w_dtype", "Weights dtype"), ("a_dtype", "Activations dtype"), ("kv_dtype", "KV-cache dtype"))]
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


def _workload(form: Form, model: ModelSpec | None) -> tuple[int, int, int]:
    values = []
    for key, label, default in (("batch", "Batch (sequences)", 1), ("prompt", "Prompt tokens", 1024),
                                ("output", "Output tokens", 256)):
        value = form.number(label, key, default, min_value=0, max_value=10_000_000, step=1)
        if value < 1:
            form.error(key, f"{label.split(' (')[0]} must be at least 1 (got {value}).")
        values.append(value)
    batch, prompt, output = values
    if model is not None and prompt >= 1 and output >= 1:
        total = prompt + output + model.prefix_tokens
        if total > model.max_context_len:
            form.error("output", f"Prompt + output = {total:,} tokens is beyond the {model.max_context_len:,}"
                                 f"-token context limit (max_context_len) of {model.id}; shorten them.")
    return batch, prompt, output


def _decoding(form: Form, model: ModelSpec | None) -> DecodingStrategy | None:
    name = form.select("Decoding strategy", list(DECODINGS), "decoding", "autoregressive",
                       format_func=DECODINGS.__getitem__)
    try:
        if name == "speculative":
            drafters = ["eagle", "mtp", *list_ids("models")]
            draft = form.select("Drafter", drafters, "spec_draft", "eagle", help="EAGLE or MTP head "
                                "(one decoder layer on the target), or a separate draft model")
            k = form.number("Draft length k", "spec_k", 4, min_value=1, max_value=64, step=1)
            alpha = form.slider("Acceptance rate per draft token", "spec_acc", 0.7, min_value=0.0,
                                max_value=1.0, step=0.05, help="i.i.d. per position; expected tokens "
                                "per verify = (1 - a^(k+1)) / (1 - a)")
            strategy = Speculative(k=k, acceptance=alpha, draft=draft)
            if model is not None:
                strategy.drafter(model)  # a draft model must share the target's vocabulary
            return strategy
        if name == "block_diffusion":
            block = form.number("Block size", "diff_block", 32, min_value=1, max_value=4096, step=1)
            sub = form.number("Sub-block (queries per forward)", "diff_sub", 8, min_value=1, max_value=4096,
                              step=1)
            tps = form.number("Tokens finalised per step", "diff_tps", 2.0, min_value=0.0, step=0.5,
                              fmt="%.2f", help="measured mean; no built-in default in perfsim")
            return BlockDiffusion(block_size=block, sub_block_size=sub, tokens_per_step=tps)
        if name == "tidar":
            draft_len = form.number("Draft length", "tidar_draft", 16, min_value=1, max_value=256, step=1)
            tpf = form.number("Tokens per forward (T/NFE)", "tidar_tpf", 3.0, min_value=0.0, step=0.25,
                              fmt="%.2f", help="measured tokens per network evaluation")
            return TiDAR(draft_len=draft_len, tokens_per_forward=tpf)
        return make_decoding(name)
    except PerfsimInputError as exc:
        form.error("decoding", str(exc))
        return None


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
    batch, prompt, output = _workload(form, model)
    box.subheader("Decoding")
    decoding = _decoding(form, model)
    for note in form.notes:
        box.warning(note)
    form.mirror_to_url(KINDS)
    setup = Setup(model=model, hardware=hw, batch=batch, prompt_len=prompt, output_len=output,
                  decoding=decoding, values=dict(form.values), errors=dict(form.errors))
    return setup, form
