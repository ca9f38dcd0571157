"""Multi-head latent attention end to end: published parameter counts of DeepSeek-V3 and
DeepSeek-V2-Lite, the latent KV cache, HF import reproducing the bundled YAMLs, the absorbed decode
and expanded prefill kernels, a serving run, and the torch validation model."""

import pytest

import perfsim
from perfsim.cost.graph import StepBatch, build_step
from perfsim.cost.memory import kv_bytes_per_token, memory
from perfsim.io.hf_import import model_from_hf_config
from perfsim.layers import DECODE, PREFILL
from perfsim.ops import Attention
from perfsim.ops.mla_attention import MLAAttention
from perfsim.spec.deployment import Execution
from perfsim.spec.model import MLASpec, ModelSpec

V3 = {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "first_k_dense_replace": 3,
      "hidden_act": "silu", "hidden_size": 7168, "intermediate_size": 18432, "kv_lora_rank": 512,
      "max_position_embeddings": 163840, "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 8,
      "n_routed_experts": 256, "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 128,
      "num_experts_per_tok": 8, "num_hidden_layers": 61,
      "num_key_value_heads": 128,
      "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
      "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                              "weight_block_size": [128, 128]},
      "rms_norm_eps": 1e-06, "rope_theta": 10000, "routed_scaling_factor": 2.5,
      "scoring_func": "sigmoid",
      "tie_word_embeddings": False, "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
      "v_head_dim": 128, "vocab_size": 129280}
V2_LITE = {"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
           "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 10944,
           "kv_lora_rank": 512,
           "max_position_embeddings": 163840, "moe_intermediate_size": 1408, "moe_layer_freq": 1,
           "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": False, "num_attention_heads": 16,
           "num_experts_per_tok": 6, "num_hidden_layers": 27, "num_key_value_heads": 16,
           "q_lora_rank": None, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06,
           "tie_word_embeddings": False,
           "topk_method": "greedy", "torch_dtype": "bfloat16", "v_head_dim": 128, "vocab_size": 102400}

# (model, published total, published active, active tolerance): the active figures leave out the
# input embedding table; DeepSeek-V2-Lite's "2.4B" is 2.45B that way (see tests/cost/test_params.py).
PUBLISHED = [("deepseek-v3", 671e9, 37e9, 0.015), ("deepseek-v2-lite", 15.7e9, 2.4e9, 0.025)]


@pytest.mark.parametrize(("model_id", "total", "active", "active_rel"), PUBLISHED)
def test_parameter_counts_match_published(model_id, total, active, active_rel):
    spec = perfsim.load_model(model_id)
    counts = perfsim.model_params(spec)
    assert counts.total == pytest.approx(total, rel=0.015)
    assert counts.active - spec.vocab_size * spec.hidden_size == pytest.approx(active, rel=active_rel)


def test_kv_cache_is_the_replicated_latent():
    lite = perfsim.load_model("deepseek-v2-lite")
    per_layer = (512 + 64) * 2  # kv_lora_rank + qk_rope_head_dim, bf16
    assert kv_bytes_per_token(lite) == (27 * per_layer, {})
    assert kv_bytes_per_token(lite, tp=4) == (27 * per_layer, {})  # one latent: not split by TP
    v3 = perfsim.load_model("deepseek-v3")
    assert kv_bytes_per_token(v3)[0] == 61 * per_layer


@pytest.mark.parametrize(("cfg", "model_id"), [(V3, "deepseek-v3"), (V2_LITE, "deepseek-v2-lite")])
def test_hf_import_reproduces_the_yaml(cfg, model_id):
    imported, bundled = model_from_hf_config(cfg), perfsim.load_model(model_id)
    fields = ("hidden_size", "vocab_size", "tie_embeddings", "max_context_len", "dtypes", "operators",
              "sublayer_names")
    assert {f: getattr(imported, f) for f in fields} == {f: getattr(bundled, f) for f in fields}
    assert imported.blocks == bundled.blocks


def test_hf_import_layer_frequency():
    cfg = {**V2_LITE, "num_hidden_layers": 6, "first_k_dense_replace": 2, "moe_layer_freq": 2}
    kinds = [s.type for s in model_from_hf_config(cfg).sublayers][1::2]
    assert kinds == ["mlp", "mlp", "moe", "mlp", "moe", "mlp"]


def _kernels(model, step, tp=1):
    group = next(g for g in build_step(model, step, Execution(tensor_parallel=tp)) if g.sublayer == "attn")
    return {k.name: k for k in group.kernels}


def test_decode_is_absorbed_mqa_and_prefill_is_expanded():
    v3 = perfsim.load_model("deepseek-v3")
    step = StepBatch(decode_seqs=8, decode_context=1000, prefill_seqs=1, prefill_tokens=512, prefill_past=256)
    k = _kernels(v3, step, tp=8)
    dec, pre = k["attn_decode"].op, k["attn_prefill"].op
    assert isinstance(dec, MLAAttention) and dec.absorbed and not pre.absorbed
    assert dec.num_heads == pre.num_heads == 16 and dec._dims == (576, 512, 1)
    assert pre._dims == (192, 128, 16)
    assert k["attn_decode"].role is DECODE and k["q_absorb"].role is DECODE and k["v_absorb"].role is DECODE
    assert k["kv_b_proj"].role is PREFILL and k["kv_b_proj"].op.m == 512 + 256
    # decode reads the cached latent once per key: 576 values, not K and V of 128 heads
    assert dec.cost().bytes == pytest.approx(8 * 1001 * 576 * 2 + 8 * 16 * (576 + 512) * 2)
    # q_b_proj and o_proj are split over tensor parallelism, the low-rank down-projection is not
    assert k["q_b_proj"].op.n == 16 * 192 and k["qkv_a_proj"].op.n == 1536 + 576


def test_attention_op_defaults_unchanged_by_v_head_dim():
    base = dict(phase="prefill", batch=2, q_len=64, kv_len=128, num_heads=8, num_kv_heads=2, head_dim=64)
    same = Attention(**base).cost(), Attention(**base, v_head_dim=64).cost()
    assert same[0].flops == same[1].flops and same[0].bytes == same[1].bytes
    narrow = Attention(**base, v_head_dim=32).cost()
    assert narrow.flops == pytest.approx(same[0].flops * 0.75)


def test_serving_and_memory_on_one_h100():
    lite = perfsim.load_model("deepseek-v2-lite")
    report = memory(lite, perfsim.load_hardware("h100-sxm"), batch=8, context_len=4096)
    assert report.fits and report.kv_bytes_per_token == 27 * 576 * 2
    engine = perfsim.EngineConfig(max_num_seqs=8, max_model_len=4096)
    workload = perfsim.ClosedLoop(4, prompt_len=256, output_len=32, num_requests=8)
    summary = perfsim.simulate_serving("deepseek-v2-lite", "h100-sxm", workload, engine).summary()
    assert summary["requests_completed"] == 8 and summary["tpot_mean_s"] > 0
    result = perfsim.generate(lite, "h100-sxm", 1, 512, 64)
    assert result.ttft_s > 0 and result.tpot_s > 0


TINY = {"attn": {"type": "mla", "num_heads": 4, "q_lora_rank": 24, "kv_lora_rank": 32, "qk_nope_head_dim": 16,
                 "qk_rope_head_dim": 8, "v_head_dim": 12},
        "lite": {"type": "mla", "num_heads": 2, "kv_lora_rank": 16, "qk_nope_head_dim": 8,
                 "qk_rope_head_dim": 4, "v_head_dim": 8},
        "mlp": {"type": "mlp", "intermediate_size": 96},
        "moe": {"type": "moe", "num_experts": 4, "top_k": 2, "expert_intermediate_size": 16,
                "num_shared_experts": 1, "shared_intermediate_size": 16, "router_bias": True}}
TINY_SPEC = ModelSpec.model_validate({"id": "tiny-mla", "display_name": "tiny", "source": {"url": "test"},
                                      "hidden_size": 64, "vocab_size": 256, "max_context_len": 64,
                                      "operators": TINY, "blocks": [{"ops": ["attn", "mlp", "lite", "moe"]}]})


def test_torch_model_counts_and_runs():
    torch = pytest.importorskip("torch")
    from perfsim.calibrate.torch_model import build_torch_model, count_parameters

    model = build_torch_model(TINY_SPEC, dtype=torch.float64)
    assert count_parameters(model) == perfsim.model_params(TINY_SPEC).total
    tokens = torch.randint(0, 256, (2, 12), generator=torch.Generator().manual_seed(0))
    full = model(tokens, model.allocate_cache(2, 16), all_logits=True)
    cache = model.allocate_cache(2, 16)
    model(tokens[:, :5], cache)  # prefill, then chunked prefill after cached tokens, then decode
    model(tokens[:, 5:9], cache, start_pos=5)
    steps = [model(tokens[:, i:i + 1], cache, start_pos=i) for i in range(9, 12)]
    # absorbed decode and expanded chunked prefill reproduce the full expanded prefill
    for i, logits in zip(range(9, 12), steps, strict=True):
        torch.testing.assert_close(logits, full[:, i])
    assert cache.nbytes() == 2 * 16 * ((32 + 8) + (16 + 4)) * 8  # latent only, fp64
    assert isinstance(TINY_SPEC.operators["attn"], MLASpec)
