"""Scaling-law accuracy: predicted LM loss from parameters and training tokens, mapped to a score.

Loss (nats/token), Chinchilla approach 3 (Hoffmann et al. 2022, arXiv 2203.15556, eq. 10):

    L(N, T) = E + A / N^alpha + B / T^beta,  E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28

with N the total parameter count (Chinchilla counts embeddings; Pearce & Song 2024, arXiv
2406.12907) and T the training tokens (default: the model's `accuracy.training_tokens`, else the
compute-optimal 20 tokens per parameter of the same paper). MoE: N is the geometric mean of total
and active parameters (`moe_mix` = 0.5, an assumption: routed experts add capacity at less than
dense efficiency, Clark et al. 2022, arXiv 2202.01169, give no single constant).

Shape (depth/width): L is multiplied by 1 + kappa * ln(rho / rho_opt)^2 with rho = hidden size /
token-mixing layers. Kaplan et al. 2020 (arXiv 2001.08361, Fig. 5) report the loss to be flat over a
wide range of aspect ratios and (n_layer, d_model) = (6, 4288) within 3 % of (48, 1600); rho_opt = 64
(inside their flat region) and kappa = 0.0056 reproduce that 3 %. Deep-thin models therefore win at a
fixed parameter count until rho ~ 64, as Nemotron-Flash (arXiv 2511.18890) finds for small models.

Operator mix: each token-mixing layer adds its operator's loss offset weighted by its share of the
mixers. Measured at 1B / 100B tokens in the Nemotron-Flash weight-norm ablation (papers via the
paper note zhaoyang97/Paper-Notes-en, Wiki PPL with and without weight norm): Llama 18.67 / 18.03,
DeltaNet 18.86 / 18.19, Mamba2 18.44 / 17.88, i.e. ln-PPL offsets vs attention of +0.0095 (DeltaNet)
and -0.0104 (Mamba2), the mean of both columns. Gated DeltaNet takes Mamba2's offset and GLA
DeltaNet's (assumptions: Yang et al. 2024, arXiv 2412.06464, rank Gated DeltaNet at or below Mamba2
and GLA above DeltaNet in perplexity); sliding-window attention 0 (the LM loss at training length is
that of full attention; long-context recall is outside the loss).

Score proxy: score = 100 * sigmoid(a - b * L), one (a, b) per benchmark, fitted by
`benchmarks/fit_score_proxy.py` to the published scores of the bundled models that carry one and
their published training tokens (perfsim/accuracy/data/published_scores.yaml) and stored with its
leave-one-out error in perfsim/accuracy/data/score_proxy.yaml. An estimate is marked `proxy` and
carries a band of +- the leave-one-out RMSE in score points: the law is for designs without a
published score (a ranking aid), never a replacement for one. All constants are fields of
`ScalingLaw` and can be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perfsim.accuracy.base import DEFAULT_BENCHMARK, AccuracyEstimate, AccuracyModel, register_accuracy
from perfsim.accuracy.published import load_published_scores, load_score_proxies
from perfsim.cost.params import model_params
from perfsim.errors import PerfsimInputError
from perfsim.layers import layer_kind
from perfsim.spec.model import ModelSpec

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
TOKENS_PER_PARAM = 20.0
OPERATOR_LOSS_OFFSET_NATS = {
    "attention": 0.0,
    "sliding_window": 0.0,
    "mamba2": -0.0104,
    "deltanet": 0.0095,
    "gated_deltanet": -0.0104,
    "gla": 0.0095,
}


def chinchilla_loss(params, tokens, constants: dict | None = None):
    """Chinchilla L(N, T) in nats per token; array-capable, strictly decreasing in both."""
    c = {**CHINCHILLA, **(constants or {})}
    params, tokens = np.asarray(params, float), np.asarray(tokens, float)
    return c["E"] + c["A"] / params ** c["alpha"] + c["B"] / tokens ** c["beta"]


def aspect_factor(aspect_ratio, optimum: float = 64.0, kappa: float = 0.0056):
    """Multiplicative loss penalty of a depth/width shape: 1 at the optimum, >= 1 elsewhere."""
    return 1.0 + kappa * np.log(np.asarray(aspect_ratio, float) / optimum) ** 2


def score_from_loss(loss, proxy: tuple[float, float], chance: float = 0.0):
    """Benchmark-score proxy in percent, decreasing in loss (for b > 0), from `chance` (random
    guessing) up to 100."""
    a, b = proxy
    return chance + (100.0 - chance) / (1.0 + np.exp(-(a - b * np.asarray(loss, float))))


def mixer_kinds(model: ModelSpec) -> list[str]:
    """Operator kind of every token-mixing sublayer, in the keys of OPERATOR_LOSS_OFFSET_NATS."""
    kinds = (layer_kind(op).loss_kind(op) for op in model.sublayers)
    return [k for k in kinds if k is not None]


@register_accuracy("scaling_law")
@dataclass(frozen=True)
class ScalingLaw(AccuracyModel):
    benchmark: str = DEFAULT_BENCHMARK
    training_tokens: float | None = None
    tokens_per_param: float = TOKENS_PER_PARAM
    constants: dict = field(default_factory=dict)
    aspect_optimum: float = 64.0
    aspect_kappa: float = 0.0056
    operator_offsets_nats: dict = field(default_factory=dict)
    moe_mix: float = 0.5
    #: (a, b) of the loss -> score map; None: the fitted one of `benchmark` (score_proxy.yaml).
    proxy: tuple[float, float] | None = None

    def effective_params(self, model: ModelSpec) -> float:
        counts = model_params(model)
        if counts.total == counts.active:
            return counts.total
        return counts.active ** (1 - self.moe_mix) * counts.total**self.moe_mix

    def tokens(self, model: ModelSpec, params: float) -> float:
        if self.training_tokens is not None:
            return self.training_tokens
        published = load_published_scores().tokens(model.id)
        if published is not None:
            return published
        if model.accuracy is not None and model.accuracy.training_tokens is not None:
            return model.accuracy.training_tokens
        return self.tokens_per_param * params

    def loss(self, model: ModelSpec) -> float:
        """Predicted loss in nats per token (lower is better)."""
        n = self.effective_params(model)
        kinds = mixer_kinds(model)
        base = chinchilla_loss(n, self.tokens(model, n), self.constants)
        shape = aspect_factor(model.hidden_size / max(len(kinds), 1), self.aspect_optimum, self.aspect_kappa)
        offsets = {**OPERATOR_LOSS_OFFSET_NATS, **self.operator_offsets_nats}
        mix = sum(offsets[k] for k in kinds) / max(len(kinds), 1)
        return float(base * shape + mix)

    def chance(self) -> float:
        """The benchmark's random-guessing score (0 when the table does not name the benchmark)."""
        known = load_published_scores().benchmarks.get(self.benchmark)
        return 0.0 if known is None else known.chance_percent

    def mapping(self) -> tuple[tuple[float, float], float | None]:
        """((a, b), leave-one-out RMSE in points or None) of the loss -> score map in use."""
        if self.proxy is not None:
            return tuple(self.proxy), None  # type: ignore[return-value]
        fitted = load_score_proxies().proxies.get(self.benchmark)
        if fitted is None:
            known = ", ".join(sorted(load_score_proxies().proxies))
            raise PerfsimInputError(f"scaling_law: no fitted score proxy for benchmark {self.benchmark!r} "
                                    f"(fitted: {known}); pass proxy=(a, b) or run "
                                    f"benchmarks/fit_score_proxy.py.")
        return (fitted.a, fitted.b), fitted.loo_rmse_points

    def estimate(self, model: ModelSpec) -> AccuracyEstimate:
        loss = self.loss(model)
        proxy, rmse = self.mapping()
        chance = self.chance()
        score = float(score_from_loss(loss, proxy, chance))
        low, high = (None, None) if rmse is None else (max(score - rmse, chance), min(score + rmse, 100.0))
        return AccuracyEstimate(score, "scaling_law", loss, kind="proxy", low=low, high=high,
                                benchmark=self.benchmark)


def proxy_rows(models, benchmark: str = DEFAULT_BENCHMARK, law: ScalingLaw | None = None):
    """(model id, predicted loss, published score) of every model with a published `benchmark`
    score and published training tokens; the masked-diffusion LLaDA is left out (its loss is not
    an autoregressive LM loss)."""
    from perfsim.accuracy.measured import Measured
    from perfsim.io.load import load_model

    law = law or ScalingLaw(benchmark=benchmark, proxy=(0.0, 1.0))
    table = load_published_scores()
    rows = []
    for model in map(load_model, models):
        found = Measured(benchmark).estimate(model)
        tokens = table.tokens(model.id) or (model.accuracy.training_tokens if model.accuracy else None)
        if found is None or tokens is None or model.id.startswith("llada"):
            continue
        rows.append((model.id, law.loss(model), found.accuracy))
    return rows


def fit_logit_line(losses, scores, chance: float = 0.0) -> tuple[float, float]:
    """Least-squares (a, b) of logit((score - chance) / (100 - chance)) = a - b * loss."""
    p = (np.asarray(scores, float) - chance) / (100.0 - chance)
    slope, intercept = np.polyfit(np.asarray(losses, float), np.log(p / (1 - p)), 1)
    return float(intercept), float(-slope)


def fit_score_proxy(models, benchmark: str = DEFAULT_BENCHMARK, law: ScalingLaw | None = None):
    """(a, b) fitted on the bundled published scores of `benchmark` (see `proxy_rows`)."""
    rows = proxy_rows(models, benchmark, law)
    if len(rows) < 2:
        raise PerfsimInputError(f"need >= 2 models with a published '{benchmark}' score and training "
                                f"tokens to fit the proxy (found {len(rows)}).")
    _, losses, scores = zip(*rows, strict=True)
    return fit_logit_line(losses, scores, ScalingLaw(benchmark=benchmark).chance())


def leave_one_out(rows, chance: float = 0.0) -> list[tuple[str, float, float]]:
    """(model id, published, predicted with that model left out of the fit) for every row."""
    out = []
    for i, (name, loss, score) in enumerate(rows):
        rest = rows[:i] + rows[i + 1:]
        a, b = fit_logit_line([r[1] for r in rest], [r[2] for r in rest], chance)
        out.append((name, score, float(score_from_loss(loss, (a, b), chance))))
    return out
