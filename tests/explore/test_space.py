"""space.yaml's deployment: `tensor_parallel` and `expert_parallel` reach every point's prediction;
an expert parallelism that does not divide the GPUs is one sentence naming the field."""

import pytest

import perfsim
from perfsim.cost.batch import evaluate_workloads
from perfsim.errors import PerfsimInputError
from perfsim.explore.space import load_space
from perfsim.explore.sweep import sweep
from perfsim.spec.deployment import Execution

SPACE = {"model": "mixtral-8x7b", "hardware": "h100-sxm", "workload": {"prompt_len": 512, "output_len": 64},
         "parameters": {"workload.batch": [1, 64]}}


def test_space_deployment_defaults_to_one_gpu():
    assert load_space(SPACE).execution == Execution()


def test_sweep_rows_run_under_the_space_deployment():
    rows = sweep({**SPACE, "tensor_parallel": 4, "expert_parallel": 4})
    model, hw = perfsim.load_model("mixtral-8x7b"), perfsim.load_hardware("h100-sxm")
    expected = evaluate_workloads(model, hw, [1, 64], 512, 64,
                                  execution=Execution(tensor_parallel=4, expert_parallel=4))
    sliced = evaluate_workloads(model, hw, [1, 64], 512, 64, execution=Execution(tensor_parallel=4))
    assert list(rows["e2e_s"]) == pytest.approx(list(expected["e2e_s"]))
    assert rows["e2e_s"].iloc[0] != pytest.approx(sliced["e2e_s"][0])


@pytest.mark.parametrize("extra, needle", [
    ({"tensor_parallel": 8, "expert_parallel": 3},
     "field 'expert_parallel' is invalid: must divide tensor_parallel (8)"),
    ({"expert_parallel": 0}, "field 'expert_parallel' is invalid"),
    ({"tensor_parallel": 5000}, "field 'tensor_parallel' is invalid"),
])
def test_bad_deployment_is_one_sentence(extra, needle):
    with pytest.raises(PerfsimInputError) as err:
        load_space({**SPACE, **extra})
    assert needle in str(err.value) and "\n" not in str(err.value)
