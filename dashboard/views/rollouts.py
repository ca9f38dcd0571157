"""RL rollouts tab: a few simulated RL steps of the what-if (generation on the serving engine,
training, weight sync) as a timeline with its bubbles."""

from __future__ import annotations

import streamlit as st

import perfsim
from perfsim.dashboard import runs
from perfsim.dashboard.figures import make_rollout_fig
from perfsim.dashboard.fmt import secs, tok_s
from perfsim.dashboard.sidebar import ReadySetup, Setup
from perfsim.dashboard.views.common import chart, ready

PIPELINES = {"sync": "synchronous", "async": "one-step off-policy (async)", "partial": "partial rollouts"}
PLACEMENTS = {"colocated": "colocated (time-shared GPUs)", "disaggregated": "disaggregated pools"}


def config(setup: ReadySetup) -> perfsim.RolloutConfig:
    """The RolloutConfig the page's controls describe (prompt length and decoding from the sidebar)."""
    c = st.columns(4)
    pipeline = c[0].selectbox("Pipeline", list(PIPELINES), format_func=PIPELINES.__getitem__,
                              key="rl_pipeline")
    placement = c[1].selectbox("Placement", list(PLACEMENTS), format_func=PLACEMENTS.__getitem__,
                               key="rl_placement")
    steps = c[2].number_input("RL steps", 1, 20, 3, key="rl_steps")
    gen_gpus = c[3].number_input("Generation GPUs", 1, 1024, 8, key="rl_gen_gpus")
    c = st.columns(4)
    prompts = c[0].number_input("Prompts per step", 1, 4096, 16, key="rl_prompts")
    samples = c[1].number_input("Samples per prompt", 1, 64, 4, key="rl_samples")
    mean_out = c[2].number_input("Mean output tokens", 16, 65536, 1024, 128, key="rl_output",
                                 help="log-normal lengths (sigma 0.8): a long tail, as in reasoning RL")
    max_out = c[3].number_input("Max output tokens", 16, 131072, 4096, 512, key="rl_max_output")
    extra = {}
    if placement == "disaggregated":
        extra["training_gpus"] = st.number_input("Training GPUs", 1, 1024, 8, key="rl_train_gpus")
    else:
        extra["training_gpus"] = int(gen_gpus)
    if pipeline == "partial":
        extra["partial_rollout_tokens"] = st.number_input("Tokens a rollout may add per step", 16, 131072,
                                                          1024, 128, key="rl_partial")
    return perfsim.RolloutConfig(
        steps=int(steps), prompts_per_step=int(prompts), samples_per_prompt=int(samples),
        prompt_len=setup.prompt_len, output_len=f"lognormal:{int(mean_out)}:0.8:{int(max_out)}",
        max_output_len=int(max_out), pipeline=pipeline, placement=placement,
        generation_gpus=int(gen_gpus), decoding=setup.decoding, **extra)


def render(setup: Setup) -> None:
    """A few RL steps of the what-if: where the step time goes and where GPUs sit idle."""
    if not ready(setup):
        return
    try:
        rl = config(setup)
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
