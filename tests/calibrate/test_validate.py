"""Validation runs: measured rows per shape, predictions per profile, per-phase summary."""

import pytest

pytestmark = pytest.mark.calibrate

import perfsim  # noqa: E402
from perfsim.calibrate.validate import ValidationShapes, measure_model, predict_table, summarise, with_dtype  # noqa: E402
from perfsim.calibrate.workflow import uncalibrated  # noqa: E402
from perfsim.calibration.fit import with_fitted  # noqa: E402

SPEC = perfsim.spec.model.ModelSpec.model_validate({
    "id": "tiny-val", "display_name": "tiny", "source": {"url": "test"}, "hidden_size": 64,
    "vocab_size": 128, "tie_embeddings": True, "max_context_len": 1024,
    "operators": {"attn": {"type": "attention", "num_heads": 4, "num_kv_heads": 2, "head_dim": 16},
                  "mlp": {"type": "mlp", "intermediate_size": 128}},
    "blocks": [{"repeat": 2, "ops": ["attn", "mlp"]}],
})
SHAPES = ValidationShapes(prefill=((1, 32), (2, 64)), decode=((1, 100), (4, 300)))


@pytest.fixture(scope="module")
def measured():
    steps = []
    table = measure_model(with_dtype(SPEC, "fp32"), "cpu", "fp32", SHAPES, budget_s=0.05,
                          on_done=lambda: steps.append(1))
    return table, len(steps)


def test_every_shape_is_measured_once(measured):
    table, steps = measured
    assert steps == 4
    assert list(zip(table["phase"], table["batch"], table["tokens"], strict=True)) == [
        ("prefill", 1, 32), ("prefill", 2, 64), ("decode", 1, 100), ("decode", 4, 300)]
    assert (table["measured_s"] > 0).all() and (table["p10_s"] <= table["p90_s"]).all()
    assert (table["reps"] >= 3).all()


def test_predictions_per_profile_and_summary(measured):
    table, _ = measured
    cpu = perfsim.load_hardware("cpu-generic")
    slower = with_fitted(cpu, {"memory.e_bw": 0.1, "gemm.e_max.fp32": 0.1})
    spec = with_dtype(SPEC, "fp32")
    out = predict_table(spec, table, {"a": cpu, "b": slower})
    assert (out["predicted_b_s"] > out["predicted_a_s"]).all()
    assert out["error_a"].tolist() == pytest.approx((out["predicted_a_s"] / out["measured_s"] - 1).tolist())
    summary = summarise(out, ["a", "b"])
    assert list(summary["phase"]) == ["prefill", "decode"] and list(summary["n"]) == [2, 2]
    assert (summary["median_abs_error_a"] >= 0).all() and (summary["median_spread"] >= 0).all()


def test_dtype_override_keeps_state_precision():
    spec = with_dtype(SPEC, "bf16")
    assert spec.dtypes.weights == spec.dtypes.activations == spec.dtypes.kv_cache == "bf16"
    assert spec.dtypes.state == "fp32" and spec.operators == SPEC.operators


def test_uncalibrated_drops_only_the_fit():
    cpu = perfsim.load_hardware("cpu-generic")
    fitted = with_fitted(cpu, {"memory.e_bw": 0.2})
    prior = uncalibrated(fitted)
    assert prior.efficiency_in_use == cpu.efficiency_in_use and prior.memory == cpu.memory
