"""Speculative decoding: k draft tokens, one target verification forward with k + 1 queries.

Drafters: a separate bundled model (`draft="qwen3-0.6b"`), EAGLE-style single decoder layer on
the target's features (`draft="eagle"`), or MTP heads inside the target (`draft="mtp"`; one
extra decoder layer sharing the target's lm_head, so it costs the same per draft token).
Acceptance: a scalar alpha (i.i.d. per position), a per-position list of conditional
acceptance probabilities, or a measured mean number of tokens per verify step.
Expected tokens per verify = 1 + sum_i prod_{j<=i} p_j, which for a scalar alpha is
(1 - alpha^(k+1)) / (1 - alpha) (Leviathan et al., 2023).

Tree drafts (EAGLE-2, SpecInfer style) keep the `tree_width` best candidates at each of the k
levels: each draft forward runs `tree_width` query tokens per sequence and the verify forward
k x tree_width + 1. A scalar alpha then accepts a level when any of its candidates is right,
1 - (1 - alpha)^width, which treats candidates as independent (an upper bound: real candidates
are correlated); per-level lists or a measured mean are used as given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from perfsim.checks import count
from perfsim.cost.graph import StepBatch
from perfsim.cost.step import step_latency
from perfsim.decoding.base import DecodingStrategy, register_decoding
from perfsim.errors import PerfsimInputError
from perfsim.layers import layer_kind
from perfsim.layers.builder import has_experts
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec

#: Longest draft chain (published EAGLE/MTP runs use 1-16; 64 keeps a typo from a huge verify).
MAX_DRAFT_TOKENS = 64


def expected_tokens_per_verify(probabilities) -> float:
    """1 + sum over draft positions of the probability that all drafts up to it are accepted."""
    return 1.0 + float(np.sum(np.cumprod(np.asarray(probabilities, dtype=float))))


def _single_layer_drafter(target: ModelSpec, kind: str) -> ModelSpec:
    """One decoder layer with the target's first mixer and FFN, plus the target's lm_head."""
    kinds = {n: layer_kind(s) for n, s in target.operators.items()}
    mixer = next(n for n, k in kinds.items() if k.mixes_tokens)
    attn = next((n for n, k in kinds.items() if k.softmax_attention), mixer)
    ffn = next((n for n, k in kinds.items() if k.channel_mixer), None)
    ops = [attn] + ([ffn] if ffn else [])
    data = target.model_dump()
    data.update(id=f"{target.id}-{kind}-drafter", display_name=f"{kind} drafter of {target.id}",
                blocks=[{"repeat": 1, "ops": ops}], layer_pattern=None, pattern_ops=None,
                operators={n: target.operators[n].model_dump() for n in ops},
                published_params=None, published_active_params=None, prefix_tokens=0, accuracy=None)
    return ModelSpec.model_validate(data)


@register_decoding("speculative")
@dataclass(frozen=True)
class Speculative(DecodingStrategy):
    # Speculative sampling with the rejection rule reproduces the target's output distribution
    # exactly (Leviathan et al. 2023, arXiv 2211.17192; Chen et al. 2023, arXiv 2302.01318).
    lossless = True

    k: int
    acceptance: float | tuple[float, ...] | None = None
    mean_accepted_tokens: float | None = None
    draft: str = "eagle"
    tree_width: int = 1

    def __post_init__(self) -> None:
        count("speculative k (draft length)", self.k, MAX_DRAFT_TOKENS)
        if not isinstance(self.tree_width, int) or not 1 <= self.tree_width <= 64:
            raise PerfsimInputError(f"speculative tree_width must be an integer in 1..64 (got "
                                    f"{self.tree_width!r}).")
        if (self.acceptance is None) == (self.mean_accepted_tokens is None):
            raise PerfsimInputError("speculative decoding needs exactly one of acceptance or "
                                    "mean_accepted_tokens.")
        for p in self._per_position() if self.acceptance is not None else []:
            if not 0.0 <= p <= 1.0:
                raise PerfsimInputError(f"acceptance probabilities must be in 0..1 (got {p}).")
        if self.mean_accepted_tokens is not None and not 1.0 <= self.mean_accepted_tokens <= self.k + 1:
            raise PerfsimInputError(f"mean_accepted_tokens must be in 1..{self.k + 1} for k={self.k} "
                                    f"(got {self.mean_accepted_tokens}).")

    def _per_position(self) -> np.ndarray:
        if self.acceptance is None:  # the i.i.d. alpha that reproduces the measured mean
            target = self.mean_accepted_tokens
            assert target is not None  # __post_init__ requires exactly one of the two
            if target >= self.k + 1 - 1e-12:
                alpha = 1.0
            elif target <= 1 + 1e-12:
                alpha = 0.0
            else:
                alpha = _bisect(lambda a: expected_tokens_per_verify(np.full(self.k, a)) - target)
            return np.full(self.k, alpha)
        if isinstance(self.acceptance, int | float):
            return np.full(self.k, 1.0 - (1.0 - float(self.acceptance)) ** self.tree_width)
        probs = np.asarray(self.acceptance, dtype=float)
        if len(probs) != self.k:
            raise PerfsimInputError(f"acceptance list has {len(probs)} entries; it needs k={self.k}.")
        return probs

    def expected_tokens(self) -> float:
        return expected_tokens_per_verify(self._per_position())

    @cached_property
    def _survival_ascending(self) -> np.ndarray:
        """P(the first j drafts are all accepted) for j = k .. 1 (ascending), computed once: the
        simulators draw from it every iteration."""
        return np.cumprod(self._per_position())[::-1].copy()

    def sample_tokens(self, rng, size):
        """1 + the number of leading accepted drafts per verify (the first rejection ends it), by
        inversion: one uniform u per verify accepts the j-th draft iff u < P(first j accepted),
        the same distribution as a uniform per position at a k-th of the draws."""
        survival = self._survival_ascending
        return 1 + self.k - np.searchsorted(survival, rng.random(size), side="right")

    def drafter(self, target: ModelSpec) -> ModelSpec:
        from perfsim.io.load import load_model

        if self.draft in ("eagle", "mtp"):
            return _single_layer_drafter(target, self.draft)
        drafter = load_model(self.draft)
        if drafter.vocab_size != target.vocab_size:
            raise PerfsimInputError(f"draft model {drafter.id} has vocab {drafter.vocab_size}, the "
                                    f"target {target.id} has {target.vocab_size}; they must match.")
        return drafter

    def resident_draft(self, target):
        """EAGLE/MTP layers use the target's embedding and output head; a draft model has its own."""
        drafter = self.drafter(target)
        if self.draft not in ("eagle", "mtp"):
            return drafter, 0.0
        return drafter, float(target.vocab_size * target.hidden_size * (1 if target.tie_embeddings else 2))

    def target_step(self, batch, context) -> StepBatch:
        return StepBatch(decode_seqs=batch, decode_context=context,
                         decode_tokens=self.k * self.tree_width + 1)

    def iteration_latency(self, target, hw, batch, context, execution):
        drafter = self.drafter(target)
        level = StepBatch(decode_seqs=batch, decode_context=context, decode_tokens=self.tree_width)
        draft = step_latency(drafter, hw, level, _for_drafter(drafter, self.draft_execution(execution)))
        return self.k * draft + super().iteration_latency(target, hw, batch, context, execution)

    def draft_execution(self, execution: Execution | None) -> Execution:
        """How one draft step runs: the drafter's kernels under the target's launch mode, with
        the proposer's host costs in place of the engine's per-step ones (a draft step does not go
        through the scheduler). Eagerly each step pays `host_per_draft_step_s`; under CUDA graphs
        the k steps replay inside one graph, so only the per-drafted-token work remains."""
        ex = execution or Execution()
        per_step = 0.0 if ex.cuda_graphs else ex.host_per_draft_step_s
        return replace(ex, host_overhead_per_step_s=per_step,
                       host_per_seq_per_step_s=ex.host_per_drafted_token_s * self.tree_width)

    def prefill_extra_latency(self, target, hw, batch, prompt_len, execution):
        if self.draft in ("eagle", "mtp"):
            return 0.0
        step = StepBatch(prefill_seqs=batch, prefill_tokens=prompt_len)
        drafter = self.drafter(target)
        return float(step_latency(drafter, hw, step, _for_drafter(drafter, execution or Execution())))

    def describe(self) -> str:
        tree = f", tree width {self.tree_width}" if self.tree_width > 1 else ""
        return f"speculative ({self.draft}, k={self.k}{tree}, {self.expected_tokens():.2f} tokens/verify)"


def _for_drafter(drafter: ModelSpec, execution: Execution) -> Execution:
    """A dense drafter of an expert-parallel target runs its layers tensor-parallel alone."""
    if execution.expert_parallel == 1 or has_experts(drafter):
        return execution
    return replace(execution, expert_parallel=1, expert_load_imbalance=1.0)


def _bisect(f, low: float = 0.0, high: float = 1.0) -> float:
    """The root of an increasing `f` on [low, high] to machine precision (bisection: the tokens per
    verify grow monotonically with the acceptance rate; scipy's root finders cost a second of import)."""
    for _ in range(64):
        mid = 0.5 * (low + high)
        if f(mid) < 0.0:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)
