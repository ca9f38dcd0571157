"""A speculative drafter occupies memory next to the target: weights, KV cache and state."""

import pytest

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.cost.params import model_params
from perfsim.decoding import Speculative
from perfsim.sim.kvcache import KVCache

TARGET, HW = "qwen3-8b", "h100-sxm"
DRAFT_MODEL = Speculative(k=4, acceptance=0.7, draft="qwen3-0.6b")
EAGLE = Speculative(k=4, acceptance=0.7, draft="eagle")


def test_draft_model_adds_its_weights_and_kv():
    ar = perfsim.memory(TARGET, HW, 8, 4096)
    spec = perfsim.memory(TARGET, HW, 8, 4096, decoding=DRAFT_MODEL)
    draft = perfsim.load_model("qwen3-0.6b")
    draft_weights = model_params(draft).total * 2
    draft_kv = 8 * kv_bytes_per_seq(draft, 4096)
    assert spec.weights_bytes - ar.weights_bytes == pytest.approx(draft_weights)
    assert spec.kv_cache_bytes - ar.kv_cache_bytes == pytest.approx(draft_kv)
    assert spec.draft_bytes == pytest.approx(draft_weights + draft_kv)
    assert spec.max_batch < ar.max_batch


def test_eagle_layer_shares_the_targets_embedding_and_head():
    target = perfsim.load_model(TARGET)
    ar, spec = perfsim.memory(TARGET, HW, 1, 1024), perfsim.memory(TARGET, HW, 1, 1024, decoding=EAGLE)
    drafter = EAGLE.drafter(target)
    shared = target.vocab_size * target.hidden_size * 2  # untied: embedding + lm_head
    assert spec.weights_bytes - ar.weights_bytes == pytest.approx((model_params(drafter).total - shared) * 2)
    assert 0 < spec.weights_bytes - ar.weights_bytes < 0.1 * ar.weights_bytes  # one layer


def test_generate_refuses_a_draft_that_does_not_fit_and_says_so():
    perfsim.generate(TARGET, "a10g", 1, 512, 256, decoding=EAGLE)  # fits without a second model
    big_draft = Speculative(k=4, acceptance=0.7, draft="qwen3-1.7b")
    with pytest.raises(perfsim.PerfsimInputError, match="does not fit") as info:
        perfsim.generate("qwen3-8b", "a10g", 64, 4096, 1024, decoding=big_draft)
    assert "drafter" in str(info.value)


def test_serving_kv_pool_shrinks_with_a_draft_model():
    model, hw = perfsim.load_model(TARGET), perfsim.load_hardware(HW)
    args = dict(block_size=16, gpu_memory_utilization=0.9, max_batched_tokens=8192, max_seqs=256)
    plain = KVCache(model, hw, **args)
    drafted = KVCache(model, hw, **args, draft=perfsim.load_model("qwen3-0.6b"))
    assert drafted.pool_bytes < plain.pool_bytes and drafted.block_bytes > plain.block_bytes
    assert drafted.total_blocks < plain.total_blocks
