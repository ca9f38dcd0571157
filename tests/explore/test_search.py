"""Design search: constraints respected, front non-dominated, reproducible, bad input rejected."""

import pytest

from perfsim import HybridDesign, pareto_mask, search
from perfsim.errors import PerfsimInputError

pytestmark = pytest.mark.optuna

SPACE = {
    "architecture": {"n_layers": 8, "hidden_size": 1024, "vocab_size": 32000},
    "hardware": "h100-sxm",
    "workload": {"batch": 1, "prompt_len": 512, "output_len": 128},
    "accuracy": {"name": "scaling_law", "training_tokens": 1.0e11},
    "search": {
        "n_layers": {"low": 4, "high": 16},
        "hidden_size": {"low": 512, "high": 2560, "step": 256},
        "ffn_ratio": {"low": 2.0, "high": 4.0, "step": 0.5},
        "num_heads": [8, 12, 16],
        "mixers": ["attention", "sliding_window", "mamba2", "deltanet", "gla"],
        "ffns": ["mlp", "moe"],
    },
    "constraints": {"params": {"max": 6.0e8}, "e2e_s": {"max": 0.09}, "memory_bytes": {"max": 4.0e9}},
    "budget": 60,
}


@pytest.fixture(scope="module")
def result():
    return search(SPACE)


def test_search_respects_constraints(result):
    front, trials = result.front, result.trials
    assert len(front) >= 2 and len(trials) == 60
    assert (front["params"] <= 6.0e8).all() and (front["e2e_s"] <= 0.09).all()
    assert (front["memory_bytes"] <= 4.0e9).all() and front["fits"].all()
    infeasible = trials[~trials["feasible"]]
    assert len(infeasible)  # the constraints bind in this space
    assert (
        (infeasible["params"] > 6.0e8)
        | (infeasible["e2e_s"] > 0.09)
        | ~infeasible["valid"]
        | (infeasible["memory_bytes"] > 4.0e9)
        | ~infeasible["fits"].astype(bool)
    ).all()


def test_front_is_non_dominated_among_feasible(result):
    feasible = result.trials[result.trials["feasible"]]
    mask = pareto_mask(feasible, result.objectives)
    assert set(feasible[mask]["design"]) == set(result.front["design"])
    assert list(result.front["e2e_s"]) == sorted(result.front["e2e_s"])


def test_front_designs_rebuild_with_the_reported_shape(result):
    row = result.front.iloc[0]
    design = HybridDesign(
        n_layers=int(row["n_layers"]),
        hidden_size=int(row["hidden_size"]),
        ffn_ratio=float(row["ffn_ratio"]),
        num_heads=int(row["num_heads"]),
        mixers=tuple(row["mixers"].split(",")),
        ffns=tuple(row["ffns"].split(",")),
        vocab_size=32000,
    )
    assert design.to_model().id == row["design"]


def test_search_is_reproducible_and_overridable(result):
    again = search(SPACE, budget=60)
    assert list(again.trials["design"]) == list(result.trials["design"])
    other = search(
        SPACE,
        budget=12,
        hardware="a10g",
        objectives={"tpot_s": "min", "accuracy": "max"},
        constraints={"params": {"max": 2.0e9}},
    )
    assert len(other.trials) == 12 and set(other.objectives) == {"tpot_s", "accuracy"}


@pytest.mark.parametrize(
    "overrides, needle",
    [
        ({"constraints": {"params": {"max": 1.0}}}, "none of 8 designs met the constraints"),
        ({"objectives": {"speed": "max"}}, "unknown objective 'speed'"),
        ({"constraints": {"latency": {"max": 1.0}}}, "unknown constraint 'latency'"),
    ],
)
def test_impossible_or_unknown_requests_are_one_sentence(overrides, needle):
    with pytest.raises(PerfsimInputError, match=needle):
        search({**SPACE, "budget": 8, **overrides})


def test_space_without_search_section_is_rejected():
    with pytest.raises(PerfsimInputError, match="no 'search' section"):
        search({k: v for k, v in SPACE.items() if k != "search"})
    with pytest.raises(PerfsimInputError, match="min .* is above max"):
        search({**SPACE, "constraints": {"e2e_s": {"min": 1.0, "max": 0.5}}})


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"n_layers": 0, "hidden_size": 512}, "n_layers must be an integer from 1 to"),
        ({"n_layers": 2, "hidden_size": 8, "ffn_ratio": 0.5}, "narrower than one 64-wide tile"),
        ({"n_layers": 2, "hidden_size": 512, "mixers": ("attention",)}, "needs n_layers=2"),
        ({"n_layers": 2, "hidden_size": 512, "mixers": "lstm"}, "unknown mixers"),
        ({"n_layers": 2, "hidden_size": 512, "num_heads": 16, "num_kv_heads": 5}, "multiple of num_kv_heads"),
    ],
)
def test_impossible_designs_name_the_field(kwargs, needle):
    with pytest.raises(PerfsimInputError, match=needle):
        HybridDesign(**kwargs).to_model()
