"""Sidebar inputs for how the model is served: runtime (from the runtime catalogue), tensor and
expert parallelism, replicas, and the serving engine's knobs that the library's messages name
(gpu_memory_utilization, max_num_seqs, max_batched_tokens)."""

from __future__ import annotations

import importlib
import inspect

import streamlit as st

import perfsim
from perfsim.dashboard.form import Form
from perfsim.dashboard.setup import Deployment
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import list_ids
from perfsim.layers.builder import has_experts
from perfsim.sim import EngineConfig
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.spec.runtime import RuntimeProfile

NO_RUNTIME = "none"


def _library_default() -> str:
    """The runtime `perfsim.generate(model, hw, ...)` uses when given none, so the dashboard's
    default what-if is exactly the call a script makes."""
    generate = importlib.import_module("perfsim.cost.request").generate
    default = inspect.signature(generate).parameters["runtime"].default
    return default if isinstance(default, str) else NO_RUNTIME


DEFAULT_RUNTIME = _library_default()
KINDS: dict[str, type] = {"runtime": str, "tp": float, "ep": float, "ep_imb": float, "replicas": float,
                          "eng_seqs": float, "eng_tokens": float, "eng_mem": float}


@st.cache_resource(show_spinner=False)
def runtimes() -> dict[str, RuntimeProfile]:
    """The runtime catalogue (`perfsim list runtimes`), loaded once per server process."""
    return {rid: perfsim.load_runtime(rid) for rid in list_ids("runtimes")}


def runtime_label(rid: str) -> str:
    if rid == NO_RUNTIME:
        return "none (runtime-free kernels, no host costs)"
    return runtimes()[rid].display_name


def deployment(form: Form, hw: HardwareProfile | None, model: ModelSpec | None = None) -> Deployment | None:
    """The Deployment the inputs describe, or None (with a sentence under the field) when not valid.
    Expert parallelism on a model without MoE layers is a sentence under its field, not a no-op."""
    catalogue = runtimes()
    rid = form.select("Runtime", [NO_RUNTIME, *catalogue], "runtime", DEFAULT_RUNTIME,
                      format_func=runtime_label,
                      help="the serving stack's kernels, launch mode, scheduler and host costs "
                           "(`perfsim list runtimes`)")
    runtime = catalogue.get(rid)
    if runtime is not None and hw is not None and not runtime.runs_on(hw.arch):
        form.error("runtime", f"{runtime.display_name} does not run on {hw.id} (arch {hw.arch}); it "
                              f"supports {', '.join(runtime.archs or ())}.")
        runtime = None
    domain = hw.interconnect.scale_up.domain_size if hw is not None and hw.interconnect.scale_up else 1
    tp = form.number("Tensor parallel (GPUs per replica)", "tp", 1, min_value=1, max_value=max(domain, 1),
                     whole=True, help=f"splits weights, heads and KV cache; at most the {domain}-GPU "
                                      "scale-up domain of the device")
    ep = form.number("Expert parallel (GPUs, dividing tensor parallel)", "ep", 1, min_value=1,
                     max_value=max(domain, 1), whole=True,
                     help="MoE only: routed experts placed whole, num_experts / EP per group of TP / EP "
                          "GPUs (vLLM --enable-expert-parallel is EP = TP); 1: experts sliced over TP")
    imbalance = form.number("Expert load imbalance (busiest rank / mean)", "ep_imb", 1.0, min_value=1.0,
                            max_value=float(max(domain, 1)), step=0.1, fmt="%.2f",
                            help="routed tokens on the busiest expert-parallel rank over the mean, beyond "
                                 "uniform routing's randomness (1 to EP)")
    if ep is not None and ep > 1 and model is not None and not has_experts(model):
        form.error("ep", f"{model.id} has no MoE layers, so expert parallelism has nothing to place; "
                         f"set it to 1.")
        ep = None
    replicas = form.number("Replicas (data parallel)", "replicas", 1, min_value=1, max_value=4096, whole=True,
                           help="independent copies of the model behind a router (Serving tab)")
    with form.inside(form.box.expander("Serving engine")):
        seqs = form.number("Max running sequences (0 = runtime default)", "eng_seqs", 0, min_value=0,
                           max_value=65536, whole=True, help="max_num_seqs")
        tokens = form.number("Max batched tokens (0 = runtime default)", "eng_tokens", 0, min_value=0,
                             max_value=1 << 20, whole=True, help="max_num_batched_tokens per iteration")
        mem = form.number("GPU memory utilization", "eng_mem", 0.9, min_value=0.05, max_value=1.0, step=0.05,
                          fmt="%.2f", help="share of device memory the engine may use (KV pool sizing)")
    if None in (tp, ep, imbalance, replicas, seqs, tokens, mem) or (rid != NO_RUNTIME and runtime is None):
        return None
    assert tp is not None and ep is not None and imbalance is not None  # for the type checker
    assert replicas is not None and mem is not None
    if tp % ep:
        divisors = ", ".join(str(d) for d in range(1, tp + 1) if tp % d == 0)
        form.error("ep", f"Expert parallel must divide tensor parallel ({tp}): one of {divisors} (got {ep}).")
        return None
    if imbalance > ep:
        form.error("ep_imb", f"Expert load imbalance must be at most expert parallel ({ep}) "
                             f"(got {imbalance:g}).")
        return None
    try:
        execution = Execution(tensor_parallel=tp, expert_parallel=ep, expert_load_imbalance=imbalance)
    except PerfsimInputError as exc:
        form.error("tp", str(exc))
        return None
    engine = EngineConfig(max_num_seqs=seqs or None, max_batched_tokens=tokens or None,
                          gpu_memory_utilization=mem)
    return Deployment(runtime=runtime, execution=execution, replicas=replicas, engine=engine)
