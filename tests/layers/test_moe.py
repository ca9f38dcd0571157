"""MoE layers under expert parallelism: whole experts per GPU group, the combine in place of the
TP all-reduce (in the latent width for LatentMoE), and one sentence for what cannot be placed."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.graph import StepBatch, build_step
from perfsim.decoding import make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.ops import AllReduce, MoE, kernel_time
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec


def moe_model(latent_dim=None, shared=0, experts=128, width=768) -> ModelSpec:
    data = perfsim.load_model("qwen3-30b-a3b").model_dump()
    data["operators"]["moe"].update(num_experts=experts, expert_intermediate_size=width,
                                    latent_dim=latent_dim, num_shared_experts=shared,
                                    shared_intermediate_size=768 if shared else 0)
    return ModelSpec.model_validate({**data, "id": "test-moe"})


def kernels(model, tokens, **execution) -> dict:
    groups = build_step(model, StepBatch(prefill_seqs=1, prefill_tokens=tokens), Execution(**execution))
    return {k.name: k.op for g in groups if g.sublayer == "moe" for k in g.kernels}


def test_ep1_is_todays_tensor_parallel_layer():
    model = moe_model()
    assert [*kernels(model, 64, tensor_parallel=8)] == [*kernels(model, 64, tensor_parallel=8,
                                                                  expert_parallel=1)]
    assert "allreduce" in kernels(model, 64, tensor_parallel=8)


def test_ep_places_whole_experts_and_combines_with_the_tp_all_reduce():
    ops = kernels(moe_model(), 512, tensor_parallel=8, expert_parallel=4)
    experts = ops["experts"]
    assert isinstance(experts, MoE) and experts.expert_parallel == 4
    assert experts.expert_intermediate_size == 768 // 2  # TP / EP = 2 GPUs slice each expert
    assert "allreduce" not in ops and isinstance(ops["ep_combine"], AllReduce)
    assert ops["ep_combine"].num_gpus == 8


@settings(max_examples=40, deadline=None)
@given(latent=st.sampled_from([256, 512, 1024]), tokens=st.integers(1, 100_000))
def test_latent_moe_cuts_the_combine_bytes_by_hidden_over_latent(latent, tokens):
    plain = kernels(moe_model(), tokens, tensor_parallel=8, expert_parallel=8)["ep_combine"]
    latent_op = kernels(moe_model(latent), tokens, tensor_parallel=8, expert_parallel=8)["ep_combine"]
    assert plain.cost().bytes / latent_op.cost().bytes == pytest.approx(2048 / latent)


def test_shared_experts_keep_the_combine_in_the_hidden_width():
    ops = kernels(moe_model(512, shared=1), 256, tensor_parallel=8, expert_parallel=8)
    assert ops["ep_combine"].cost().bytes == kernels(moe_model(), 256, tensor_parallel=8,
                                                     expert_parallel=8)["ep_combine"].cost().bytes


@settings(max_examples=60, deadline=None)
@given(tokens=st.integers(1, 200_000), more=st.integers(1, 100_000))
def test_combine_time_grows_with_tokens(h100, tokens, more):
    model = moe_model(512)
    few = kernels(model, tokens, tensor_parallel=8, expert_parallel=8)["ep_combine"]
    many = kernels(model, tokens + more, tensor_parallel=8, expert_parallel=8)["ep_combine"]
    assert kernel_time(h100, many) >= kernel_time(h100, few)


def test_ep_lets_an_expert_width_that_tp_cannot_slice_run_whole():
    model = moe_model(width=700)  # 700 / 8 is not whole
    with pytest.raises(PerfsimInputError, match="tensor_parallel 8 must divide expert_intermediate_size"):
        kernels(model, 16, tensor_parallel=8)
    assert kernels(model, 16, tensor_parallel=8, expert_parallel=8)["experts"].expert_intermediate_size == 700


def test_experts_that_do_not_divide_over_ep_are_one_sentence():
    with pytest.raises(PerfsimInputError) as err:
        kernels(moe_model(experts=12), 16, tensor_parallel=8, expert_parallel=8)
    assert str(err.value) == ("expert_parallel 8 must divide num_experts (12): each GPU group holds "
                              "the same number of whole experts.")


def test_ep_on_a_dense_model_is_refused_not_ignored(h100):
    with pytest.raises(PerfsimInputError) as err:
        perfsim.generate("qwen3-8b", h100, 1, 128, 16, execution=Execution(tensor_parallel=2,
                                                                          expert_parallel=2))
    assert str(err.value).startswith("expert_parallel 2 needs a model with MoE layers, and qwen3-8b has none")


def test_a_dense_drafter_of_an_expert_parallel_target_runs_tensor_parallel(h100):
    strategy = make_decoding("speculative", draft="qwen3-0.6b", k=3, acceptance=0.7)
    ep = perfsim.generate("qwen3-30b-a3b", h100, 4, 512, 32, strategy,
                          execution=Execution(tensor_parallel=4, expert_parallel=4))
    assert ep.tpot_s > 0
