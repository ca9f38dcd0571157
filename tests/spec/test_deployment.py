"""Execution as a runtime resolves it on a device, and attention figures per implementation."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.runtime import resolve_deployment, resolve_execution
from perfsim.errors import PerfsimInputError
from perfsim.spec.deployment import Execution
from perfsim.spec.runtime import RuntimeProfile


def runtime(**data) -> RuntimeProfile:
    return RuntimeProfile.model_validate({"id": data.pop("id", "test-rt"), "display_name": "test",
                                          "version": "1", "source": {"url": "https://example.org"}, **data})


HOST = {"value_s": 1e-4, "source": "test"}


def test_execution_of_takes_the_runtime_on_the_device_generation():
    rt = runtime(cuda_graphs={"enabled": False},
                 host={"per_step": HOST, "per_seq_per_step": {"value_s": 2e-5, "source": "t"},
                       "per_kernel_eager": {"value_s": 3e-5, "source": "t"}},
                 devices={"hopper": {"kernels": {"attention_prefill": "fa3"}}})
    on_h100 = Execution.of(rt, perfsim.load_hardware("h100-sxm"), tensor_parallel=2)
    assert (on_h100.attention_prefill_impl, on_h100.attention_decode_impl) == ("fa3", "fa2")
    assert not on_h100.cuda_graphs and on_h100.tensor_parallel == 2
    assert on_h100.host_overhead_per_step_s == 1e-4 and on_h100.host_per_seq_per_step_s == 2e-5
    assert on_h100.host_per_kernel_s == 3e-5 and on_h100.runtime_id == "test-rt"
    assert Execution.of(rt, perfsim.load_hardware("a10g")).attention_prefill_impl == "fa2"


def test_runtime_none_is_the_given_execution():
    hw = perfsim.load_hardware("h100-sxm")
    given = Execution(tensor_parallel=2, cuda_graphs=False)
    assert resolve_execution(None, hw, given) is given
    assert resolve_execution(None, hw, None) == Execution()


def test_explicit_execution_fields_win_over_the_runtime():
    rt = runtime(host={"per_step": HOST}, cuda_graphs={"enabled": True})
    hw = perfsim.load_hardware("h100-sxm")
    merged = resolve_execution(rt, hw, Execution(tensor_parallel=4, cuda_graphs=False,
                                                 host_overhead_per_step_s=5e-4))
    assert merged.tensor_parallel == 4 and not merged.cuda_graphs
    assert merged.host_overhead_per_step_s == 5e-4  # set explicitly: wins
    left = resolve_execution(rt, hw, Execution(tensor_parallel=4))
    assert left.host_overhead_per_step_s == 1e-4  # left at its default: the runtime's


def test_an_implementation_without_figures_is_one_sentence():
    rt = runtime(id="trt", kernels={"attention_prefill": "tvm"})
    with pytest.raises(PerfsimInputError) as err:
        Execution.of(rt, perfsim.load_hardware("h100-sxm"))
    message = str(err.value)
    assert "'h100-sxm'" in message and "'tvm'" in message and "runtime 'trt'" in message
    assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message


def test_the_op_refuses_an_unlisted_implementation_too():
    hw = perfsim.load_hardware("a10g")
    with pytest.raises(PerfsimInputError, match="a10g.*'fa3'"):
        perfsim.step_latency(perfsim.load_model("qwen3-0.6b"), hw,
                             perfsim.StepBatch(prefill_seqs=1, prefill_tokens=512),
                             Execution(attention_prefill_impl="fa3"))


def test_same_as_prices_the_phases_an_entry_has_no_figures_for():
    attention = perfsim.load_hardware("h100-sxm").efficiency_in_use.attention
    fa3 = attention.of("fa3", "prefill")
    assert fa3.prefill_e["bf16"] > attention.prefill_e["bf16"]
    assert attention.of("fa3", "decode").decode_e_bw == attention.decode_e_bw  # same_as: fa2
    assert attention.of("flashinfer", "prefill").prefill_e == fa3.prefill_e  # same_as: fa3
    assert attention.of(None, "prefill") is attention and attention.of("fa2", "decode") is attention
    assert set(attention.available) >= {"fa2", "fa3", "flashinfer"}


def test_default_implementation_figures_and_calibration_paths_are_unchanged():
    hw = perfsim.load_hardware("h100-sxm")
    assert hw.efficiency.attention.impl == "fa2" and hw.efficiency.attention.prefill_e["bf16"] == 0.555
    fitted = hw.model_copy(update={"calibration": hw.calibration.model_copy(
        update={"fitted": {"attention.prefill_e.bf16": 0.5,
                           "attention.implementations.fa3.prefill_e.bf16": 0.7}})})
    fitted = perfsim.HardwareProfile.model_validate(fitted.model_dump())
    assert fitted.efficiency_in_use.attention.prefill_e["bf16"] == 0.5
    assert fitted.efficiency_in_use.attention.of("fa3", "prefill").prefill_e["bf16"] == 0.7


def test_a_same_as_must_name_a_listed_implementation():
    data = perfsim.load_hardware("a10g").model_dump()
    data["efficiency"]["attention"]["implementations"] = {"flashinfer": {"same_as": "fa9", "source": "x"}}
    with pytest.raises(ValueError, match="same_as"):
        perfsim.HardwareProfile.model_validate(data)


def test_execution_rejects_a_negative_per_sequence_cost():
    with pytest.raises(PerfsimInputError):
        Execution(host_per_seq_per_step_s=-1.0)
    assert {f.name for f in dataclasses.fields(Execution)} >= {
        "attention_prefill_impl", "attention_decode_impl", "host_per_seq_per_step_s"}


@pytest.mark.parametrize("fields", [
    {"tensor_parallel": 0}, {"tensor_parallel": 1.5}, {"tensor_parallel": True}, {"tensor_parallel": "2"},
    {"tensor_parallel": 10**6}, {"cuda_graphs": "no"}, {"host_overhead_per_step_s": float("nan")},
    {"host_per_kernel_s": -1e-6}, {"host_per_seq_per_step_s": float("inf")}, {"attention_prefill_impl": 3},
])
def test_execution_refuses_wrong_types_and_non_finite_costs(fields):
    with pytest.raises(PerfsimInputError) as info:
        Execution(**fields)
    name = next(iter(fields))
    assert f"Execution.{name} must be" in str(info.value)


@settings(max_examples=200, deadline=None)
@given(tp=st.integers(1, 64), ep=st.integers(-2, 70))
def test_expert_parallel_is_accepted_exactly_when_it_divides_tensor_parallel(tp, ep):
    if 1 <= ep <= tp and tp % ep == 0:
        assert Execution(tensor_parallel=tp, expert_parallel=ep).expert_parallel == ep
        return
    with pytest.raises(PerfsimInputError) as err:
        Execution(tensor_parallel=tp, expert_parallel=ep)
    message = str(err.value)
    assert message.startswith(f"Execution.expert_parallel must be an integer that divides tensor_parallel "
                              f"({tp})") and message.endswith(f"(got {ep}).") and "\n" not in message


@pytest.mark.parametrize("bad", [True, 2.0, "2", None])
def test_expert_parallel_of_another_type_is_refused(bad):
    with pytest.raises(PerfsimInputError, match="Execution.expert_parallel must be an integer"):
        Execution(tensor_parallel=4, expert_parallel=bad)


@pytest.mark.parametrize("bad", [0.5, 4.5, float("nan"), float("inf"), True, "2"])
def test_expert_load_imbalance_is_a_number_from_1_to_ep(bad):
    with pytest.raises(PerfsimInputError, match=r"expert_load_imbalance must be a number from 1 to "
                                                r"expert_parallel \(4\)"):
        Execution(tensor_parallel=4, expert_parallel=4, expert_load_imbalance=bad)
    assert Execution(tensor_parallel=4, expert_parallel=4, expert_load_imbalance=4).expert_load_imbalance == 4


def test_a_runtime_keeps_the_explicit_expert_parallelism():
    hw = perfsim.load_hardware("h100-sxm")
    hw_used, resolved = resolve_deployment("vllm", hw, Execution(tensor_parallel=8, expert_parallel=4,
                                                                 expert_load_imbalance=1.5))
    assert (resolved.tensor_parallel, resolved.expert_parallel, resolved.expert_load_imbalance) == (8, 4, 1.5)
    assert resolved.runtime_id == "vllm"


@pytest.mark.parametrize(("runtime", "custom"), [("vllm", True), ("sglang", True), ("tensorrt-llm", True),
                                                 ("hf-transformers", False), ("trt-autodeploy", False)])
def test_the_runtime_chooses_custom_all_reduce_or_nccl_alone(runtime, custom):
    hw = perfsim.load_hardware("h100-sxm")
    assert Execution.of(perfsim.load_runtime(runtime), hw).custom_allreduce is custom


def test_nccl_alone_prices_the_ring_on_nvlink_where_custom_kernels_are_faster():
    """On NVLink at decode sizes the custom one-shot kernel beats the ring, so an engine that uses
    NCCL alone pays more per tensor-parallel step."""
    custom = perfsim.decode_step("llama-3.1-70b", "h100-sxm", 1, 1024, runtime=None,
                                 execution=Execution(tensor_parallel=8))
    nccl = perfsim.decode_step("llama-3.1-70b", "h100-sxm", 1, 1024, runtime=None,
                               execution=Execution(tensor_parallel=8, custom_allreduce=False))
    assert nccl.latency_s > custom.latency_s


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_custom_allreduce_must_be_a_bool(bad):
    with pytest.raises(PerfsimInputError, match="custom_allreduce"):
        Execution(custom_allreduce=bad)
