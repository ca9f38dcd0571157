"""Durations of the three phases of an RL step: generation, training, weight sync.

Generation is the serving simulator itself (continuous batching, paged KV, the decoding
strategy's accepted tokens), run on an offline batch that is all there at time 0, split over the
engines round-robin as RL frameworks split prompts over their data-parallel vLLM engines. When
colocated, generation gets the engine's usual memory share: the trainer's weights, gradients and
optimiser state are assumed offloaded while it generates (NeMo-RL and verl do this).
Training is FLOPs over the trained sequences at a stated model-FLOPs utilisation. Sync is the
policy (and trained drafter) weights over the link that joins the pools plus a fixed cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import weight_bytes
from perfsim.cost.step import evaluate_step
from perfsim.decoding import DecodingStrategy
from perfsim.errors import PerfsimInputError
from perfsim.rollout.config import RolloutConfig
from perfsim.sim import Batch, EngineConfig, simulate_serving
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import ModelSpec
from perfsim.spec.runtime import RuntimeProfile

#: Forward-pass multiples of one optimiser step: forward + backward (twice the forward's FLOPs).
TRAIN_PASS_MULTIPLE = 3.0
#: Points on the sequence-length grid the forward FLOPs are tabulated on (interpolated between).
_LENGTH_POINTS = 48


@dataclass(frozen=True)
class Generation:
    duration_s: float
    engine_busy_s: np.ndarray  # per engine: from time 0 to its last finished rollout
    generated_tokens: int
    iterations: int
    preemptions: int


def generate_rollouts(model: ModelSpec, hw: HardwareProfile, cfg: RolloutConfig,
                      strategy: DecodingStrategy, prompt_tokens: np.ndarray, new_tokens: np.ndarray,
                      seed: int, runtime: RuntimeProfile | None = None) -> Generation:
    engine = cfg.engine if runtime is not None else cfg.engine or EngineConfig()
    result = simulate_serving(model, hw, Batch(prompt_tokens, new_tokens), engine, strategy, seed=seed,
                              execution=Execution(tensor_parallel=cfg.tensor_parallel),
                              replicas=min(cfg.engines, prompt_tokens.size), runtime=runtime)
    r = result.requests
    busy = np.zeros(cfg.engines)
    last = r.groupby("replica").finish_s.max()
    busy[last.index.to_numpy()] = last.to_numpy()
    return Generation(duration_s=float(busy.max()), engine_busy_s=busy,
                      generated_tokens=int(r.output_tokens.sum()), iterations=result.iterations,
                      preemptions=int(r.preemptions.sum()))


class TrainingCost:
    """Seconds of the log-prob and policy-update phases for a set of trained sequence lengths."""

    def __init__(self, model: ModelSpec, hw: HardwareProfile, cfg: RolloutConfig, max_len: int):
        peaks = hw.compute.peak_dense_flops_per_s
        if cfg.training_dtype not in peaks:
            raise PerfsimInputError(f"training_dtype {cfg.training_dtype!r} has no peak on {hw.id}; "
                                    f"allowed: {', '.join(peaks)}.")
        self._flops_per_s = cfg.training_gpus * peaks[cfg.training_dtype] * cfg.training_mfu
        self._extra_forwards = cfg.logprob_forwards + cfg.reference_forwards
        self._update_passes = TRAIN_PASS_MULTIPLE * (2 if cfg.critic else 1)
        lengths = np.unique(np.rint(np.geomspace(1, max(max_len, 2), _LENGTH_POINTS)))
        logits_per_row = 2.0 * model.vocab_size * model.hidden_size  # training needs every row's logits
        self._lengths = lengths
        self._forward_flops = np.array([
            evaluate_step(model, hw, StepBatch(prefill_seqs=1, prefill_tokens=int(n))).flops
            + (n - 1) * logits_per_row for n in lengths])

    def forward_flops(self, seq_lens: np.ndarray) -> np.ndarray:
        """One forward pass over each sequence (attention's quadratic term included)."""
        return np.interp(seq_lens, self._lengths, self._forward_flops)

    def seconds(self, seq_lens: np.ndarray) -> tuple[float, float]:
        """(log-prob forwards, policy update) for sequences packed over the training GPUs."""
        forward = float(self.forward_flops(seq_lens).sum())
        return (self._extra_forwards * forward / self._flops_per_s,
                self._update_passes * forward / self._flops_per_s)


def sync_seconds(model: ModelSpec, hw: HardwareProfile, cfg: RolloutConfig,
                 strategy: DecodingStrategy) -> float:
    """Every generator GPU receives its tensor-parallel shard; transfers to different GPUs run in
    parallel (NCCL broadcast pipelines a chunk through each link once)."""
    # the policy plus a drafter trained alongside it (EAGLE/MTP layers share embedding and head)
    bytes_per_gpu = weight_bytes(model, cfg.tensor_parallel, *strategy.resident_draft(model))
    if cfg.sync_bw_bytes_per_s is not None:
        bw, latency = cfg.sync_bw_bytes_per_s, 0.0
    elif cfg.placement == "colocated":
        link = hw.interconnect.scale_up or hw.interconnect.host_link
        bw, latency = link.bw_bytes_per_s_per_dir, link.latency_s
    else:
        bw, latency = cfg.network_bw_bytes_per_s, 0.0
    return cfg.sync_fixed_s + latency + bytes_per_gpu / bw
