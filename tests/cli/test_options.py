"""`--ep` and `--ep-imbalance` (perfsim.cli.options.expert_options) on every command that takes
`--tp`: they reach the prediction, and bad values are one sentence with exit status 2."""

import json

import pytest

import perfsim
from perfsim.cli.app import run
from perfsim.spec.deployment import Execution

MIXTRAL = ["-m", "mixtral-8x7b", "-h", "h100-sxm"]


def one_sentence(capsys, argv) -> str:
    code = run(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_predict_with_ep_is_the_library_call(capsys):
    assert run(["predict", *MIXTRAL, "--batch", "8", "--tp", "4", "--ep", "4", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    result = perfsim.generate("mixtral-8x7b", "h100-sxm", 8, 1024, 256,
                              execution=Execution(tensor_parallel=4, expert_parallel=4))
    sliced = perfsim.generate("mixtral-8x7b", "h100-sxm", 8, 1024, 256,
                              execution=Execution(tensor_parallel=4))
    assert row["tpot_s"] == pytest.approx(result.tpot_s) and result.tpot_s != pytest.approx(sliced.tpot_s)


def test_simulate_and_compare_take_ep(capsys):
    assert run(["simulate", *MIXTRAL, "--tp", "2", "--ep", "2", "--num-requests", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert run(["compare", "mixtral-8x7b", "mixtral-8x7b", "-h", "h100-sxm", "--tp", "2", "--ep", "2",
                "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("extra, needle", [
    (["--tp", "8", "--ep", "3"], "Execution.expert_parallel must be an integer that divides "
                                 "tensor_parallel (8): one of 1, 2, 4, 8"),
    (["--tp", "2", "--ep", "4"], "divides tensor_parallel (2)"),
    (["--ep", "0"], "--ep must be an integer from 1 to"),
    (["--tp", "4", "--ep", "4", "--ep-imbalance", "5"], "expert_load_imbalance must be a number from 1 to "
                                                         "expert_parallel (4)"),
    (["--tp", "4", "--ep", "4", "--ep-imbalance", "nan"], "--ep-imbalance must be a number"),
    (["--tp", "4", "--ep", "4", "--ep-imbalance", "0.5"], "--ep-imbalance must be a number from 1"),
])
def test_bad_expert_parallelism_is_one_sentence(capsys, extra, needle):
    assert needle in one_sentence(capsys, ["predict", *MIXTRAL, *extra])


def test_ep_on_a_dense_model_is_one_sentence(capsys):
    err = one_sentence(capsys, ["predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--tp", "2", "--ep", "2"])
    assert "expert_parallel 2 needs a model with MoE layers, and qwen3-8b has none" in err
