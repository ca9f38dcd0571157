"""RL post-training rollout simulator: generation on the serving engine, training, weight sync;
synchronous, one-step off-policy and partial-rollout pipelines; colocated or disaggregated."""

from perfsim.rollout.config import RolloutConfig
from perfsim.rollout.pipelines import Pipeline, register_pipeline, registered_pipelines
from perfsim.rollout.result import RolloutResult
from perfsim.rollout.simulate import simulate_rollouts

__all__ = ["Pipeline", "RolloutConfig", "RolloutResult", "register_pipeline", "registered_pipelines",
           "simulate_rollouts"]
