"""Each transformation changes what it should (parameter deltas), a no-op is the identity, and
transforms compose."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.cost.params import mlp_params, operator_params
from perfsim.spec.model import AttentionSpec, LinearSpec, MLPSpec, MoESpec
from perfsim.transforms import (
    ActivationDType,
    ContextLength,
    ElasticSubmodel,
    FFNFusion,
    FFNWidth,
    KVCacheDType,
    KVHeads,
    LatentMoE,
    PruneExperts,
    RemoveAttention,
    SlidingWindow,
    TopK,
    WeightDType,
    apply_transforms,
    make_transform,
)

LLAMA = perfsim.load_model("llama-3.1-8b")
GPT_OSS = perfsim.load_model("gpt-oss-20b")
NANO = perfsim.load_model("nemotron-nano-9b-v2")
H = LLAMA.hidden_size


def total(model):
    return perfsim.model_params(model).total


NO_OPS = [
    (LLAMA, RemoveAttention(layers=[])),
    (LLAMA, SlidingWindow(4096, layers=[])),
    (LLAMA, KVHeads(8)),
    (LLAMA, FFNWidth(14336)),
    (LLAMA, FFNFusion()),  # no two FFNs are adjacent in a transformer
    (LLAMA, KVCacheDType("bf16")),
    (LLAMA, WeightDType("bf16")),
    (LLAMA, ActivationDType("bf16")),
    (LLAMA, ContextLength(131072)),
    (LLAMA, ElasticSubmodel()),
    (GPT_OSS, PruneExperts(32)),
    (GPT_OSS, TopK(4)),
    (GPT_OSS, SlidingWindow(128, layers=[0])),  # already a 128 window
    (NANO, ElasticSubmodel(expert_fraction=0.5)),  # no experts to prune
]


@pytest.mark.parametrize("model, transform", NO_OPS, ids=lambda x: getattr(x, "name", ""))
def test_no_op_transform_is_identity(model, transform):
    assert transform.apply(model) is model


def test_remove_attention_drops_its_parameters_and_kv():
    layers = [3, 7, 11]
    attn = operator_params(LLAMA.operators["attn"], H, H).total
    gone = RemoveAttention(layers=layers).apply(LLAMA)
    assert total(LLAMA) - total(gone) == len(layers) * attn
    assert kv_bytes_per_seq(gone, 1000) == kv_bytes_per_seq(LLAMA, 1000) * 29 / 32
    linear = RemoveAttention(layers=layers, replace_with="linear").apply(LLAMA)
    assert total(LLAMA) - total(linear) == len(layers) * (attn - H - H * H)
    assert sum(isinstance(s, LinearSpec) for s in linear.sublayers) == 3


def test_ffn_width_changes_three_matrices_per_layer():
    narrow = FFNWidth(7168, layers=[0, 31]).apply(LLAMA)
    assert total(LLAMA) - total(narrow) == 2 * 3 * H * (14336 - 7168)
    assert [s.intermediate_size for s in narrow.sublayers if isinstance(s, MLPSpec)].count(7168) == 2


def test_kv_heads_change_kv_projections_and_cache():
    fewer = KVHeads(2, layers=[0, 1]).apply(LLAMA)
    assert total(LLAMA) - total(fewer) == 2 * 2 * H * 128 * (8 - 2)
    assert kv_bytes_per_seq(LLAMA, 1) - kv_bytes_per_seq(fewer, 1) == 2 * 2 * 128 * (8 - 2) * 2


def test_prune_experts_removes_whole_experts_and_keeps_active_params():
    spec = GPT_OSS.operators["moe"]
    expert = mlp_params(GPT_OSS.hidden_size, spec.expert_intermediate_size, True, True)
    pruned = PruneExperts(16, layers=[0, 5]).apply(GPT_OSS)
    before, after = perfsim.model_params(GPT_OSS), perfsim.model_params(pruned)
    router = GPT_OSS.hidden_size + 1  # router row (weight + bias) per expert
    assert before.total - after.total == 2 * (32 - 16) * (expert + router)
    assert before.active - after.active == 2 * (32 - 16) * router


def test_top_k_changes_active_not_total():
    spec = GPT_OSS.operators["moe"]
    expert = mlp_params(GPT_OSS.hidden_size, spec.expert_intermediate_size, True, True)
    k2 = TopK(2).apply(GPT_OSS)
    n_moe = sum(isinstance(s, MoESpec) for s in GPT_OSS.sublayers)
    assert total(k2) == total(GPT_OSS)
    assert perfsim.model_params(GPT_OSS).active - perfsim.model_params(k2).active == n_moe * 2 * expert


def test_latent_moe_shrinks_experts_and_adds_projections():
    latent = LatentMoE(720, expert_scale=4).apply(GPT_OSS)
    spec = next(s for s in latent.sublayers if isinstance(s, MoESpec))
    assert (spec.latent_dim, spec.num_experts, spec.top_k) == (720, 128, 16)
    step = perfsim.StepBatch(decode_seqs=1, decode_context=100)
    kernels = perfsim.evaluate_step(latent, perfsim.load_hardware("h100-sxm"), step).breakdown.kernel
    assert {"latent_down", "latent_up"} <= set(kernels)


def test_ffn_fusion_keeps_weights_and_fuses_kernels(h100):
    no_attn = RemoveAttention(layers=list(range(8, 24))).apply(LLAMA)  # FFNs 7..24 now adjacent
    fused = FFNFusion(max_group=4).apply(no_attn)
    assert total(no_attn) - total(fused) == (len(no_attn.sublayers) - len(fused.sublayers)) * H
    widths = [s.intermediate_size for s in fused.sublayers if isinstance(s, MLPSpec)]
    assert max(widths) == 4 * 14336 and sum(widths) == 32 * 14336
    step = perfsim.StepBatch(decode_seqs=1, decode_context=1000)
    a, b = (perfsim.evaluate_step(m, h100, step) for m in (no_attn, fused))
    assert b.kernels < a.kernels and b.latency_s < a.latency_s
    assert b.flops == pytest.approx(a.flops, rel=1e-3)


def test_ffn_fusion_explicit_groups_must_be_consecutive():
    no_attn = RemoveAttention(layers=[5, 6]).apply(LLAMA)
    fused = FFNFusion(groups=[[4, 6]]).apply(no_attn)
    assert len(fused.sublayers) == len(no_attn.sublayers) - 2
    with pytest.raises(perfsim.PerfsimInputError, match="not consecutive"):
        FFNFusion(groups=[[0, 1]]).apply(LLAMA)


def test_sliding_window_caps_kv_and_keeps_params():
    windowed = SlidingWindow(1024).apply(LLAMA)
    assert total(windowed) == total(LLAMA)
    assert kv_bytes_per_seq(windowed, 100_000) == kv_bytes_per_seq(LLAMA, 1024)


def test_dtype_transforms_change_bytes_not_params():
    fp8 = apply_transforms(LLAMA, [WeightDType("fp8"), KVCacheDType("fp4")])
    assert total(fp8) == total(LLAMA) and fp8.published_params == LLAMA.published_params
    assert kv_bytes_per_seq(fp8, 100) == kv_bytes_per_seq(LLAMA, 100) / 4
    h = perfsim.load_hardware("h100-sxm")
    assert perfsim.memory(fp8, h, 1, 100).weights_bytes == pytest.approx(perfsim.memory(LLAMA, h, 1, 100)
                                                                         .weights_bytes / 2)


def test_elastic_depth_width_and_experts():
    half = ElasticSubmodel(depth_fraction=0.5).apply(LLAMA)
    assert sum(isinstance(s, AttentionSpec) for s in half.sublayers) == 16
    assert half.sublayers[0] == LLAMA.sublayers[0] and half.sublayers[-1] == LLAMA.sublayers[-1]
    narrow = ElasticSubmodel(width_fraction=0.5).apply(LLAMA)
    assert total(LLAMA) - total(narrow) == 32 * 3 * H * 7168
    fewer = ElasticSubmodel(expert_fraction=0.5).apply(GPT_OSS)
    assert {s.num_experts for s in fewer.sublayers if isinstance(s, MoESpec)} == {16}
    hybrid = ElasticSubmodel(width_fraction=0.75, hidden_fraction=0.5).apply(NANO)
    assert hybrid.hidden_size == 2240 and total(hybrid) < 0.75 * total(NANO)
    dropped = ElasticSubmodel(drop_layers=[0]).apply(LLAMA)
    assert len(dropped.sublayers) == 62


def test_provenance_and_published_counts():
    model = perfsim.apply_transforms("gpt-oss-120b", [SlidingWindow(8192, layers=[1]),
                                                      {"name": "prune_experts", "num_experts": 64}])
    assert model.applied_transforms == ["sliding_window(window=8192, layers=[1])",
                                        "prune_experts(num_experts=64)"]
    assert model.published_params is None and model.id == "gpt-oss-120b-variant"
    kept = perfsim.apply_transforms("gpt-oss-120b", [KVCacheDType("fp8")])
    assert kept.published_params == 116.8e9
    assert apply_transforms(LLAMA, []) is LLAMA


def test_apply_in_two_steps_equals_one():
    steps = [RemoveAttention(layers=[1, 2]), FFNFusion(), KVCacheDType("fp8")]
    once = apply_transforms(LLAMA, steps, id="x")
    twice = apply_transforms(apply_transforms(LLAMA, steps[:1]), steps[1:], id="x")
    assert once.sublayers == twice.sublayers and once.applied_transforms == twice.applied_transforms


@settings(max_examples=25, deadline=None)
@given(windowed=st.sets(st.integers(0, 23), max_size=6), pruned=st.sets(st.integers(0, 23), max_size=6),
       window=st.sampled_from([256, 4096, 8192]), experts=st.integers(4, 32))
def test_commuting_transforms_compose_in_any_order(windowed, pruned, window, experts):
    """Windows, expert pruning and the KV format touch different fields: order does not matter,
    and parameter changes add up."""
    a = SlidingWindow(window, layers=sorted(windowed))
    b = PruneExperts(experts, layers=sorted(pruned))
    c = KVCacheDType("fp8")
    one = apply_transforms(GPT_OSS, [a, b, c], id="v")
    two = apply_transforms(GPT_OSS, [c, b, a], id="v")
    assert one.sublayers == two.sublayers and one.dtypes == two.dtypes
    delta_b = total(GPT_OSS) - total(b.apply(GPT_OSS))
    assert total(GPT_OSS) - total(one) == delta_b


@settings(max_examples=25, deadline=None)
@given(removed=st.sets(st.integers(0, 31), max_size=12))
def test_remove_attention_delta_is_additive(removed):
    attn = operator_params(LLAMA.operators["attn"], H, H).total
    out = RemoveAttention(layers=sorted(removed)).apply(LLAMA)
    assert total(LLAMA) - total(out) == len(removed) * attn
    assert out.num_mixer_layers == 32 - len(removed)


@pytest.mark.parametrize("spec, needle", [
    ({"name": "nope"}, "unknown transform 'nope'"),
    ({"name": "sliding_window"}, "sliding_window"),
    ({"name": "remove_attention", "layers": [40]}, r"remove_attention layers \[40\] out of range"),
    ({"name": "prune_experts", "num_experts": 64}, "pruning cannot add experts"),
    ({"name": "kv_heads", "num_kv_heads": 3}, "must divide the 32 query heads"),
    ({"name": "kv_cache_dtype", "dtype": "fp2"}, "dtype must be one of"),
    ({"name": "elastic", "depth_fraction": 0}, r"depth_fraction must be in \(0, 1\]"),
    ({"name": "latent_moe", "latent_dim": 9000}, "latent_dim must be below hidden_size"),
    ("sliding_window", "must be a mapping with a 'name'"),
])
def test_bad_transforms_are_one_sentence(spec, needle):
    model = GPT_OSS if spec == {"name": "prune_experts", "num_experts": 64} else LLAMA
    with pytest.raises(perfsim.PerfsimInputError, match=needle):
        apply_transforms(model, [make_transform(spec) if isinstance(spec, dict) else spec])
