"""Compare mode: pin the current what-if as a baseline, then see the variant's deltas on the
headline metrics, both on the charts, and `perfsim compare`'s table for the two models.

The baseline is a frozen snapshot (model, device, workload, deployment, decoding), kept in the
session and packed into the `base` URL parameter, so a shared link carries the comparison too.
Bundled, unedited models and devices are stored by id; edited or uploaded ones in full.
"""

from __future__ import annotations

import streamlit as st

import perfsim
from perfsim.dashboard import deploy, strategy
from perfsim.dashboard.codec import pack, unpack
from perfsim.dashboard.setup import Deployment, ReadySetup, Setup
from perfsim.errors import PerfsimInputError
from perfsim.sim import EngineConfig
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec

URL_KEY = "base"
_STATE = "_baseline"


def _ref(obj, loader) -> str | dict:
    """A bundled object's id when it is unedited, else its full description."""
    try:
        if loader(obj.id) == obj:
            return obj.id
    except PerfsimInputError:
        pass
    return obj.model_dump(mode="json")


def snapshot(setup: ReadySetup) -> dict:
    """The what-if as plain JSON (what `restore` rebuilds)."""
    d, e = setup.deploy, setup.deploy.engine
    return {"model": _ref(setup.model, perfsim.load_model),
            "hardware": _ref(setup.hardware, perfsim.load_hardware),
            "batch": setup.batch, "prompt": setup.prompt_len, "output": setup.output_len,
            "decoding": {k: v for k, v in setup.values.items() if k in strategy.KINDS},
            "runtime": d.runtime.id if d.runtime else None, "tp": d.execution.tensor_parallel,
            "ep": d.execution.expert_parallel, "ep_imb": d.execution.expert_load_imbalance,
            "replicas": d.replicas,
            "engine": [e.max_num_seqs, e.max_batched_tokens, e.gpu_memory_utilization]}


def restore(data: dict) -> ReadySetup:
    """The Setup a snapshot describes; PerfsimInputError (one sentence) when it cannot be rebuilt."""
    try:
        model = (perfsim.load_model(data["model"]) if isinstance(data["model"], str)
                 else ModelSpec.model_validate(data["model"]))
        hw = (perfsim.load_hardware(data["hardware"]) if isinstance(data["hardware"], str)
              else HardwareProfile.model_validate(data["hardware"]))
        seqs, tokens, mem = data["engine"]
        runtime = deploy.runtimes()[data["runtime"]] if data["runtime"] else None
        execution = Execution(tensor_parallel=int(data["tp"]), expert_parallel=int(data.get("ep", 1)),
                              expert_load_imbalance=float(data.get("ep_imb", 1.0)))
        deployment = Deployment(runtime=runtime, execution=execution, replicas=int(data["replicas"]),
                                engine=EngineConfig(max_num_seqs=seqs, max_batched_tokens=tokens,
                                                    gpu_memory_utilization=mem))
        setup = Setup(model=model, hardware=hw, batch=int(data["batch"]), prompt_len=int(data["prompt"]),
                      output_len=int(data["output"]), decoding=strategy.from_values(data["decoding"]),
                      deploy=deployment)
    except (KeyError, TypeError, ValueError) as exc:
        raise PerfsimInputError(f"URL parameter {URL_KEY}: the pinned baseline could not be read "
                                f"({exc.__class__.__name__}); pin it again.") from None
    return setup  # type: ignore[return-value]  # every field set above: a ReadySetup in all but name


def pinned() -> ReadySetup | None:
    """The pinned baseline (restored from the URL on a fresh session), or None."""
    state = st.session_state
    if _STATE not in state:
        state[_STATE] = None
        text = st.query_params.get(URL_KEY)
        if text:
            try:
                state[_STATE] = restore(unpack(text))
            except (ValueError, PerfsimInputError) as exc:
                st.sidebar.warning(str(exc) if isinstance(exc, PerfsimInputError) else
                                   f"URL parameter {URL_KEY}: {exc}; ignored.")
    return state[_STATE]


def controls(setup: Setup) -> ReadySetup | None:
    """Pin / unpin buttons in the sidebar; returns the baseline in force (and mirrors it to the URL)."""
    box = st.sidebar
    box.subheader("Compare")
    base = pinned()
    left, right = box.columns(2)
    if left.button("Pin as baseline", key="pin_baseline", disabled=not setup.ok,
                   help="freeze this what-if; later changes show as deltas against it"):
        base = setup  # type: ignore[assignment]  # the button is enabled only when setup.ok
        st.session_state[_STATE] = base
    if right.button("Unpin", key="unpin_baseline", disabled=base is None):
        base = st.session_state[_STATE] = None
    if base is None:
        st.query_params.pop(URL_KEY, None)
        box.caption("No baseline: pin the current what-if, then change anything to see what it buys.")
        return None
    text = pack(snapshot(base))
    if st.query_params.get(URL_KEY) != text:
        st.query_params[URL_KEY] = text
    box.caption(f"Baseline: **{describe(base)}**")
    return base


def describe(setup: ReadySetup) -> str:
    return (f"{setup.model.id} on {setup.hardware.id}, batch {setup.batch}, {setup.prompt_len:,}→"
            f"{setup.output_len:,}, {setup.deploy.describe()}, {setup.decoding.describe()}")
