"""RL rollouts tab: a few simulated RL steps of the what-if (generation on the serving engine,
training, weight sync) as a timeline with its bubbles."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

import perfsim
from perfsim.dashboard import runs, tabstate
from perfsim.dashboard.figures import make_rollout_fig
from perfsim.dashboard.fmt import secs, tok_s
from perfsim.dashboard.setup import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, csv_button, ready

PIPELINES = {"sync": "synchronous", "async": "one-step off-policy (async)", "partial": "partial rollouts"}
PLACEMENTS = {"colocated": "colocated (time-shared GPUs)", "disaggregated": "disaggregated pools"}


def controls() -> None:
    c = st.columns(4)
    pipeline = tabstate.select(c[0], "Pipeline", list(PIPELINES), "rl_pipeline", "sync",
                               format_func=PIPELINES.__getitem__)
    placement = tabstate.select(c[1], "Placement", list(PLACEMENTS), "rl_placement", "colocated",
                                format_func=PLACEMENTS.__getitem__)
    tabstate.number(c[2], "RL steps", "rl_steps", 3, 1, 20)
    tabstate.number(c[3], "Generation GPUs", "rl_gen_gpus", 8, 1, 1024)
    c = st.columns(4)
    tabstate.number(c[0], "Prompts per step", "rl_prompts", 16, 1, 4096)
    tabstate.number(c[1], "Samples per prompt", "rl_samples", 4, 1, 64)
    tabstate.number(c[2], "Mean output tokens", "rl_output", 1024, 16, 65536, 128,
                    help="log-normal lengths (sigma 0.8): a long tail, as in reasoning RL")
    tabstate.number(c[3], "Max output tokens", "rl_max_output", 4096, 16, 131072, 512)
    if placement == "disaggregated":
        tabstate.number(st, "Training GPUs", "rl_train_gpus", 8, 1, 1024)
    if pipeline == "partial":
        tabstate.number(st, "Tokens a rollout may add per step", "rl_partial", 1024, 16, 131072, 128)


def config(setup: ReadySetup, state: Mapping) -> perfsim.RolloutConfig:
    """The RolloutConfig the tab's control values in `state` describe (prompt length and decoding
    from the sidebar)."""
    pipeline, placement = state.get("rl_pipeline", "sync"), state.get("rl_placement", "colocated")
    gen_gpus, max_out = int(state.get("rl_gen_gpus", 8)), int(state.get("rl_max_output", 4096))
    training = int(state.get("rl_train_gpus", 8)) if placement == "disaggregated" else gen_gpus
    extra = {"training_gpus": training}
    if pipeline == "partial":
        extra["partial_rollout_tokens"] = int(state.get("rl_partial", 1024))
    return perfsim.RolloutConfig(
        steps=int(state.get("rl_steps", 3)), prompts_per_step=int(state.get("rl_prompts", 16)),
        samples_per_prompt=int(state.get("rl_samples", 4)), prompt_len=setup.prompt_len,
        output_len=f"lognormal:{int(state.get('rl_output', 1024))}:0.8:{max_out}", max_output_len=max_out,
        pipeline=pipeline, placement=placement, generation_gpus=gen_gpus, decoding=setup.decoding, **extra)


def export(setup: ReadySetup, state: Mapping) -> dict:
    """The tab's numbers for the JSON export: summary, per-step table and timeline."""
    result = runs.rollouts(setup, config(setup, state))
    return {"summary": result.summary(), "steps": result.steps.to_dict(orient="records"),
            "timeline": result.timeline.to_dict(orient="records")}


def render(setup: Setup) -> None:
    """A few RL steps of the what-if: where the step time goes and where GPUs sit idle."""
    if not ready(setup):
        return
    controls()
    try:
        rl = config(setup, st.session_state)
        result = runs.rollouts(setup, rl)
    except perfsim.PerfsimInputError as exc:
        st.error(str(exc))
        return
    summary = result.summary()
    cols = st.columns(3) + st.columns(3)
    cols[0].metric("Step time", secs(summary["step_s"]), help="mean over the simulated steps")
    cols[1].metric("Generation", secs(summary["generation_s"]))
    cols[2].metric("Training", secs(summary["training_s"]), help="log-prob forwards + update")
    cols[3].metric("Weight sync", secs(summary["sync_s"]))
    cols[4].metric("Idle (bubbles)", secs(summary["idle_s"]), help="per step, GPU-weighted over pools")
    cols[5].metric("Generated tokens/s", tok_s(summary["tokens_per_s"]))
    title = (f"RL step timeline: {setup.model.id} on {setup.hardware.id}, {PIPELINES[rl.pipeline]}, "
             f"{rl.placement}, {rl.rollouts_per_step} rollouts/step")
    chart(make_rollout_fig(result.timeline, title), "rollout_timeline")
    st.caption("perfsim.simulate_rollouts: generation runs in the serving simulator (continuous batching, "
               "the sidebar's decoding), training is priced at the configured MFU, weight sync over the "
               "scale-up link (colocated) or the network (disaggregated). Grey = idle GPUs.")
    with st.expander("Per-step numbers"):
        st.dataframe(result.steps, hide_index=True, key="rollout_steps")
    csv_button(result.steps, "perfsim-rl-steps.csv", "rollouts")
