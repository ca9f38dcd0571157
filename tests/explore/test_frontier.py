"""Pareto sets (against brute force), frontier contract, vectorised evaluation vs the scalar path."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.batch import evaluate_workloads
from perfsim.errors import PerfsimInputError
from perfsim.explore.frontier import evaluate_frontier, pareto_mask

COLUMNS = [
    "design",
    "hardware",
    "params",
    "active_params",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "tokens_per_s",
    "max_batch",
    "max_batch_tokens_per_s",
    "memory_bytes",
    "fits",
    "accuracy",
    "accuracy_source",
    "accuracy_kind",
    "accuracy_benchmark",
    "accuracy_low",
    "accuracy_high",
    "on_front",
]


def brute_force(costs: np.ndarray) -> np.ndarray:
    """O(n^2) definition: i is on the front unless some j is <= everywhere and < somewhere."""
    n = len(costs)
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        if np.isnan(costs[i]).any():
            continue
        out[i] = not any(
            j != i
            and not np.isnan(costs[j]).any()
            and np.all(costs[j] <= costs[i])
            and np.any(costs[j] < costs[i])
            for j in range(n)
        )
    return out


values = st.one_of(st.integers(0, 6).map(float), st.just(float("nan")))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda k: st.tuples(
            st.lists(st.lists(values, min_size=k, max_size=k), min_size=1, max_size=40),
            st.lists(st.sampled_from(["min", "max"]), min_size=k, max_size=k),
        )
    )
)
def test_pareto_mask_matches_brute_force(case):
    """Small integer grids force ties and duplicates; NaN rows are never on the front."""
    rows, senses = case
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(senses))])
    mask = pareto_mask(frame, {f"c{i}": s for i, s in enumerate(senses)})
    signs = np.array([1.0 if s == "min" else -1.0 for s in senses])
    np.testing.assert_array_equal(mask, brute_force(frame.to_numpy(float) * signs))


def test_pareto_mask_rejects_bad_objectives():
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(PerfsimInputError, match="objective 'b' is not a column"):
        pareto_mask(frame, {"b": "min"})
    with pytest.raises(PerfsimInputError, match="sense must be 'min' or 'max'"):
        pareto_mask(frame, {"a": "lowest"})


@pytest.mark.parametrize(
    "model", ["qwen3-0.6b", "llama-3.1-8b", "gpt-oss-20b", "qwen3-30b-a3b", "nemotron-h-8b"]
)
@pytest.mark.parametrize("batch, prompt, output", [(1, 1024, 256), (16, 300, 77), (64, 2048, 1)])
def test_vectorised_evaluation_matches_generate(model, batch, prompt, output, h100):
    """Same TTFT/TPOT/e2e/memory as the scalar path, and the report's max batch (kernel physics
    alone, so no runtime's sequence cap; tests/cost/test_max_batch_cap.py checks that cap)."""
    m = perfsim.load_model(model)
    bare = dict(runtime=None)
    cols = evaluate_workloads(m, h100, batch, prompt, output, **bare)
    if not perfsim.memory(m, h100, batch, prompt + output, **bare).fits:
        assert not cols["fits"][0] and np.isnan(cols["e2e_s"][0])
        return
    ref = perfsim.generate(m, h100, batch, prompt, output, **bare)
    for key, value in (
        ("ttft_s", ref.ttft_s),
        ("tpot_s", ref.tpot_s),
        ("e2e_s", ref.e2e_s),
        ("memory_bytes", ref.memory.total_bytes),
    ):
        assert cols[key][0] == pytest.approx(value, rel=1e-6, abs=1e-12), key
    limit = perfsim.memory(m, h100, 1, prompt + output, prefill_chunk_tokens=8192, **bare).max_batch
    assert cols["max_batch"][0] == limit
    assert cols["max_batch_tokens_per_s"][0] == pytest.approx(
        perfsim.generate(m, h100, limit, prompt, output, check_memory=False, **bare).tokens_per_s, rel=1e-6
    )


def test_vectorised_evaluation_matches_generate_for_speculation(h100):
    strategy = perfsim.decoding.Speculative(k=3, acceptance=0.7, draft="qwen3-0.6b")
    cols = evaluate_workloads(perfsim.load_model("qwen3-8b"), h100, 4, 512, 128, decoding=strategy)
    ref = perfsim.generate("qwen3-8b", h100, 4, 512, 128, strategy)
    assert cols["e2e_s"][0] == pytest.approx(ref.e2e_s, rel=1e-6)
    assert cols["memory_bytes"][0] == pytest.approx(ref.memory.total_bytes, rel=1e-9)  # drafter included
    assert ref.memory.draft_bytes > 0
    limit = perfsim.memory("qwen3-8b", h100, 1, 640, decoding=strategy, prefill_chunk_tokens=8192).max_batch
    assert cols["max_batch"][0] == limit


def test_frontier_contract_and_non_fitting_rows():
    frame = evaluate_frontier(
        ["qwen3-0.6b", "qwen3-1.7b", "nemotron-flash-1b", "qwen3-8b", "gpt-oss-20b"], ["h100-sxm", "a10g"]
    )
    assert set(COLUMNS) <= set(frame.columns) and len(frame) == 10
    misfit = frame[(frame.design == "gpt-oss-20b") & (frame.hardware == "a10g")].iloc[0]
    assert not misfit.fits and np.isnan(misfit.e2e_s) and not misfit.on_front
    for hw, part in frame.groupby("hardware"):
        fitting = part[part.fits]
        expected = pareto_mask(fitting, {"e2e_s": "min", "accuracy": "max"})
        assert list(fitting.on_front) == list(expected), hw
    # measured scores are used as published (MMLU 5-shot, base): NF-1B is the fastest and
    # qwen3-8b the most accurate of the fitting rows, so both are on the H100 front
    h100 = frame[frame.hardware == "h100-sxm"].set_index("design")
    assert h100.loc["nemotron-flash-1b", "accuracy"] == 44.6 and h100.loc["qwen3-8b", "accuracy"] == 76.89
    assert h100.loc["gpt-oss-20b", "accuracy_kind"] == "proxy"
    assert h100.loc["qwen3-8b", "on_front"] and h100.loc["nemotron-flash-1b", "on_front"]


def test_frontier_objectives_and_decoding():
    spec = perfsim.decoding.Speculative(k=3, acceptance=0.7)
    ar = evaluate_frontier(["qwen3-8b"], "h100-sxm")
    fast = evaluate_frontier(["qwen3-8b"], "h100-sxm", decoding=spec, objectives={"ttft_s": "min"})
    assert fast.accuracy.iloc[0] == ar.accuracy.iloc[0]  # speculation is lossless
    assert fast.e2e_s.iloc[0] < ar.e2e_s.iloc[0]
    with pytest.raises(PerfsimInputError, match="at least one design"):
        evaluate_frontier([], "h100-sxm")


def test_frontier_rows_are_the_shared_design_score(h100):
    """Frontier, sweep and search all score a design with perfsim.explore.score.score_design."""
    from perfsim.explore.score import score_design

    model = perfsim.load_model("nemotron-h-8b")
    row = perfsim.evaluate_frontier([model], h100, batch=4, prompt_len=512, output_len=128).iloc[0]
    score = score_design(model, h100, 4, 512, 128)
    assert row["accuracy"] == score.accuracy and row["accuracy_source"] == score.accuracy_note
    for name, value in score.first().items():
        assert row[name] == value or (value != value and row[name] != row[name])
