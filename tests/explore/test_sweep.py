"""Sweeps: point expansion, vectorised rows, streaming output, executors (process, Ray) and errors."""

import numpy as np
import pandas as pd
import pytest

import perfsim
from perfsim.cost.batch import evaluate_workloads
from perfsim.errors import PerfsimInputError
from perfsim.explore.space import load_space
from perfsim.explore.sweep import sweep

SPACE = {
    "architecture": {"n_layers": 8, "hidden_size": 1024, "vocab_size": 32000},
    "hardware": ["h100-sxm", "a10g"],
    "workload": {"prompt_len": 512, "output_len": 64},
    "parameters": {
        "architecture.n_layers": [4, 8],
        "architecture.mixers": ["attention", "mamba2"],
        "workload.batch": [1, 8, 64],
        "workload.output_len": [16, 128],
    },
}


@pytest.fixture(scope="module")
def local():
    return sweep(SPACE)


def test_grid_has_every_point_in_order(local):
    points = load_space(SPACE).points()
    assert len(local) == len(points) == 2 * 2 * 3 * 2 * 2
    assert list(local["point"]) == list(range(len(points)))
    for row, point in zip(local.itertuples(), points, strict=True):
        assert row.hardware == point["hardware"] and row.batch == point["workload.batch"]
    assert list(local["architecture.n_layers"]) == [p["architecture.n_layers"] for p in points]
    assert (local["prompt_len"] == 512).all()


def test_rows_equal_the_vectorised_predictor(local):
    row = local[(local["architecture.mixers"] == "mamba2") & (local["batch"] == 8)].iloc[0]
    model = perfsim.HybridDesign(
        n_layers=int(row["architecture.n_layers"]), hidden_size=1024, mixers="mamba2", vocab_size=32000
    ).to_model()
    cols = evaluate_workloads(model, perfsim.load_hardware(row["hardware"]), 8, 512, int(row["output_len"]))
    assert row["e2e_s"] == pytest.approx(cols["e2e_s"][0]) and row["design"] == model.id
    assert 0 < row["accuracy"] < 100 and row["accuracy_source"] == "scaling_law"


def test_random_mode_is_seeded():
    space = {
        **SPACE,
        "mode": "random",
        "samples": 12,
        "seed": 3,
        "parameters": {
            "architecture.hidden_size": {"low": 512, "high": 2048, "step": 256},
            "workload.batch": {"low": 1, "high": 64},
        },
    }
    first, again = sweep(space), sweep(space)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 12 and first["batch"].between(1, 64).all()


def test_model_and_hardware_field_overrides():
    """Dotted overrides reach any field: more bandwidth lowers decode time, more FFN raises params."""
    frame = sweep(
        {
            "model": "qwen3-0.6b",
            "parameters": {
                "hardware.memory.peak_bw_bytes_per_s": [1.0e12, 3.35e12],
                "model.operators.mlp.intermediate_size": [3072, 6144],
            },
        }
    )
    slow, fast = frame.iloc[0], frame.iloc[2]
    assert fast["tpot_s"] < slow["tpot_s"]
    assert frame.iloc[1]["params"] > frame.iloc[0]["params"]


@pytest.mark.parametrize("suffix", [".csv", pytest.param(".parquet", marks=pytest.mark.parquet)])
def test_results_stream_to_file(tmp_path, local, suffix):
    out = tmp_path / f"sweep{suffix}"
    seen: list = []
    frame = sweep(SPACE, out=out, progress=lambda done, total: seen.append((done, total)))
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(written) == len(frame)
    pd.testing.assert_series_equal(
        written.sort_values("point")["e2e_s"].reset_index(drop=True), frame["e2e_s"], check_names=False
    )
    assert seen[-1] == (len(frame), len(frame)) and len(seen) == 8


def test_process_pool_matches_local(local):
    pd.testing.assert_frame_equal(sweep(SPACE, executor="process", workers=2), local)


@pytest.mark.ray
def test_ray_executor_matches_local(local):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        pd.testing.assert_frame_equal(sweep(SPACE, executor="ray"), local)
    finally:
        ray.shutdown()


@pytest.mark.parametrize(
    "space, needle",
    [
        (
            {"architecture": {"n_layers": 4, "hidden_size": 512}, "parameters": {"depth": [1]}},
            "'depth' is not a sweepable field",
        ),
        (
            {"architecture": {"n_layers": 4, "hidden_size": 512}, "parameters": {"workload.tokens": [1]}},
            "workload fields are batch, prompt_len, output_len",
        ),
        ({"model": "qwen3-0.6b", "parameters": {"model.operators.nope.size": [1]}}, "no field 'nope'"),
        ({"model": "qwen3-0.6b", "parameters": {"hardware": ["h999"]}}, "unknown hardware profile 'h999'"),
        ({"architecture": {"n_layers": 4, "hidden_size": 500}}, "must be a multiple of num_heads"),
        ({"model": "qwen3-0.6b", "executor": "x"}, "field 'executor' is not a known key"),
    ],
)
def test_bad_space_is_one_sentence(space, needle):
    with pytest.raises(PerfsimInputError, match=needle):
        sweep(space)


def test_space_yaml_errors_name_the_file(write_yaml):
    path = write_yaml("model: qwen3-0.6b\nparameters: {workload.batch: [1, 2\n", "space.yaml")
    with pytest.raises(PerfsimInputError, match=r"space.yaml: malformed YAML"):
        sweep(path)
    path = write_yaml({"model": "qwen3-0.6b", "constraints": {"e2e_s": {"min": 2, "max": 1}}}, "space2.yaml")
    with pytest.raises(
        PerfsimInputError, match=r"space2.yaml: field 'constraints.e2e_s'.*no design can meet it"
    ):
        load_space(path)
    with pytest.raises(PerfsimInputError, match="must end in .csv or .parquet"):
        sweep({"model": "qwen3-0.6b"}, out="x.txt")
    assert np.isfinite(sweep({"model": "qwen3-0.6b"})["e2e_s"]).all()
