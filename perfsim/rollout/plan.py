"""Which rollouts each step generates and trains, with their lengths.

New rollouts: `prompts_per_step` prompts (one length per prompt, shared by its group) times
`samples_per_prompt` samples, each with the natural output length the policy would write, scaled
by the per-step length drift, then cut at the RL length cap. With a per-step token budget
(partial rollouts), a rollout that needs more stops at the budget and continues next step from
its prompt plus what it wrote, re-prefilled because the weights changed in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.rollout.config import RolloutConfig


@dataclass(frozen=True)
class StepWork:
    """Rollouts the engines run in one step (arrays aligned by rollout)."""

    ids: np.ndarray
    context_tokens: np.ndarray  # prompt plus tokens written in earlier steps (prefilled now)
    new_tokens: np.ndarray  # tokens written in this step
    finishing: np.ndarray  # completes this step, so it is trained this step
    sequence_tokens: np.ndarray  # prompt + whole output (the trained length of finishing ones)
    truncated: np.ndarray  # hit max_output_len

    @property
    def carried(self) -> int:
        return int(self.ids.size - self.finishing.sum())


class RolloutPlanner:
    def __init__(self, cfg: RolloutConfig, rng: np.random.Generator):
        self._cfg, self._rng = cfg, rng
        self._next_id = 0
        empty = np.zeros(0, dtype=np.int64)
        # Carried-over rollouts: id, prompt, output target, tokens written so far, truncated.
        self._carry = (empty, empty, empty, empty, np.zeros(0, dtype=bool))

    def step(self, index: int) -> StepWork:
        cfg, rng = self._cfg, self._rng
        n, group = cfg.rollouts_per_step, cfg.samples_per_prompt
        ids = np.arange(self._next_id, self._next_id + n)
        self._next_id += n
        prompts = np.repeat(cfg.prompt_len.sample(rng, cfg.prompts_per_step), group)
        natural = cfg.output_len.sample(rng, n) * (1.0 + cfg.length_drift_per_step) ** index
        natural = np.maximum(np.rint(natural), 1).astype(np.int64)
        outputs = np.minimum(natural, cfg.max_output_len)
        c_ids, c_prompts, c_outputs, c_written, c_truncated = self._carry
        ids = np.concatenate([c_ids, ids])
        prompts = np.concatenate([c_prompts, prompts])
        outputs = np.concatenate([c_outputs, outputs])
        written = np.concatenate([c_written, np.zeros(n, dtype=np.int64)])
        truncated = np.concatenate([c_truncated, natural > cfg.max_output_len])
        remaining = outputs - written
        budget = cfg.partial_rollout_tokens if cfg.pipeline == "partial" else None
        new = remaining if budget is None else np.minimum(remaining, budget)
        finishing = new == remaining
        keep = ~finishing
        self._carry = (ids[keep], prompts[keep], outputs[keep], written[keep] + new[keep], truncated[keep])
        return StepWork(ids=ids, context_tokens=prompts + written, new_tokens=new, finishing=finishing,
                        sequence_tokens=prompts + outputs, truncated=truncated)

    @property
    def carried_ids(self) -> np.ndarray:
        """Rollouts still unfinished after the last planned step."""
        return self._carry[0]
