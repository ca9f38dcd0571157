"""The layer-kind registry: every kind registered once, every spec round-trips through the model's
operator union, every kernel carries a KernelRole, and an unknown role is an error."""

import numpy as np
import pytest
from pydantic import TypeAdapter

import perfsim
from perfsim.cost.graph import StepBatch, build_step
from perfsim.layers import Kernel, KernelRole, LayerKind, check_role, layer_kind, layer_kinds
from perfsim.ops import Elementwise
from perfsim.sim import costs
from perfsim.spec.deployment import Execution
from perfsim.spec.model import ModelSpec, OperatorSpec

EXAMPLES = {
    "attention": {"type": "attention", "num_heads": 4, "num_kv_heads": 2, "head_dim": 16, "window": 8},
    "mamba2": {"type": "mamba2", "num_heads": 4, "head_dim": 16, "state_size": 8, "n_groups": 2},
    "linear_attention": {"type": "linear_attention", "variant": "gla", "num_heads": 2, "head_k_dim": 16,
                         "head_v_dim": 32},
    "mlp": {"type": "mlp", "intermediate_size": 96},
    "moe": {"type": "moe", "num_experts": 8, "top_k": 2, "expert_intermediate_size": 32,
            "num_shared_experts": 1, "shared_intermediate_size": 32},
    "linear": {"type": "linear"},
    "mla": {"type": "mla", "num_heads": 4, "q_lora_rank": 24, "kv_lora_rank": 32, "qk_nope_head_dim": 16,
            "qk_rope_head_dim": 8, "v_head_dim": 16},
    "cross_attention": {"type": "cross_attention", "num_heads": 4, "num_kv_heads": 2, "head_dim": 16,
                        "num_context_tokens": 12},
}


def test_every_kind_registered_once_with_an_example():
    names = [k.name for k in layer_kinds()]
    assert len(names) == len(set(names))
    assert set(names) == set(EXAMPLES)
    assert names[:6] == ["attention", "mamba2", "linear_attention", "mlp", "moe", "linear"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_spec_round_trips_through_the_operator_union(name):
    adapter = TypeAdapter(OperatorSpec)
    spec = adapter.validate_python(EXAMPLES[name])
    kind = layer_kind(spec)
    assert isinstance(spec, kind.spec) and kind.name == name
    assert adapter.validate_python(spec.model_dump()) == spec
    assert layer_kind(name) is kind


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_kind_answers_every_hook(name):
    spec = TypeAdapter(OperatorSpec).validate_python(EXAMPLES[name])
    kind = layer_kind(spec)
    params = kind.params(spec, 64)
    assert 0 < params.active <= params.total
    per_token, window = kind.kv_cache(spec, 2.0, 1)
    assert per_token >= 0 and (window is None or window > 0)
    assert kind.state_bytes_per_seq(spec, 4.0, 2.0, 1) >= 0
    assert kind.activation_width(spec, 64) > 0
    assert kind.opens_layer in (True, False)
    assert (kind.loss_kind(spec) is not None) == kind.mixes_tokens


def _model(name: str) -> ModelSpec:
    ops = {"op": EXAMPLES[name]}
    layers = ["op"]
    if not layer_kind(name).mixes_tokens:
        ops["attn"] = EXAMPLES["attention"]
        layers = ["attn", "op"]
    return ModelSpec.model_validate({"id": "t", "display_name": "t", "source": {"url": "t"},
                                     "hidden_size": 64, "vocab_size": 256, "max_context_len": 256,
                                     "operators": ops,
                                     "blocks": [{"ops": layers}]})


@pytest.mark.parametrize("name", EXAMPLES)
def test_kernels_are_typed_and_array_shapes_work(name):
    model = _model(name)
    step = StepBatch(decode_seqs=np.array([1.0, 4.0]), decode_context=np.array([10.0, 100.0]),
                     prefill_seqs=1, prefill_tokens=np.array([0.0, 32.0]))
    for group in build_step(model, step, Execution()):
        for kernel in group.kernels:
            assert isinstance(kernel, Kernel) and type(kernel.role) is KernelRole
    latency = perfsim.step_latency(model, perfsim.load_hardware("h100-sxm"), step)
    assert np.all(np.asarray(latency) > 0)


def test_unknown_kernel_role_is_an_error():
    bad = Kernel("mystery", Elementwise("x", 1.0, 1.0), "token")
    with pytest.raises(TypeError, match="mystery"):
        check_role(bad)
    with pytest.raises(TypeError, match="not a perfsim.layers.KernelRole"):
        costs._part_of("token")
    assert costs._part_of(KernelRole.PREFILL) == "prefill"


def test_a_kind_emitting_an_untyped_kernel_fails_the_step(monkeypatch):
    kind = layer_kind("linear")
    monkeypatch.setattr(type(kind), "kernels",
                        lambda self, spec, b: [Kernel("linear", b.gemm(b.t, b.h, b.h), None)])
    with pytest.raises(TypeError, match="linear"):
        build_step(_model("linear"), StepBatch(prefill_seqs=1, prefill_tokens=8), Execution())


def test_unknown_kind_is_one_sentence():
    with pytest.raises(perfsim.PerfsimInputError, match="unknown layer kind 'conv'"):
        layer_kind("conv")
    assert issubclass(type(layer_kind("mla")), LayerKind)
