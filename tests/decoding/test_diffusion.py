"""Full-canvas diffusion without a KV cache (BlockDiffusion(kv_cache=False, canvas_tokens=...)):
Dream/LLaDA run the prompt and every masked position in each forward, so every step costs one
bidirectional forward over the same canvas, whatever has been generated so far."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfsim
from perfsim.cost.step import step_latency
from perfsim.decoding import BlockDiffusion
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import MAX_SIZE

DREAM = BlockDiffusion(block_size=128, sub_block_size=128, tokens_per_step=1.0, kv_cache=False,
                       canvas_tokens=256 + 128)


@given(batch=st.integers(1, 512), context=st.integers(1, 100_000))
def test_every_canvas_step_runs_the_whole_canvas_bidirectionally(batch, context):
    step = DREAM.target_step(batch, context)
    assert (step.prefill_seqs, step.prefill_tokens, step.prefill_causal) == (batch, 384, False)
    assert step.decode_seqs == 0


def test_canvas_generation_is_prefill_plus_one_canvas_forward_per_step():
    model, hw = perfsim.load_model("dream-7b"), perfsim.load_hardware("h100-sxm")
    run = perfsim.generate(model, hw, 4, 256, 128, DREAM, runtime=None)
    forward = step_latency(model, hw, DREAM.target_step(4, 300))
    assert run.e2e_s == pytest.approx(run.ttft_s + 127 * forward, rel=1e-9)
    assert "384-token canvas" in run.decoding


def test_fixed_canvas_is_cheaper_than_a_canvas_that_grows_with_the_text():
    growing = BlockDiffusion(block_size=128, sub_block_size=128, tokens_per_step=1.0, kv_cache=False)
    fixed, grown = (perfsim.generate("dream-7b", "h100-sxm", 16, 256, 128, s, runtime=None).e2e_s
                    for s in (DREAM, growing))
    assert fixed < grown  # growing prices context + block: up to 127 tokens more per step


@pytest.mark.parametrize("kwargs", [
    {"kv_cache": True, "canvas_tokens": 384},
    {"kv_cache": False, "canvas_tokens": 16},  # below block_size 32
    {"kv_cache": False, "canvas_tokens": True},
    {"kv_cache": False, "canvas_tokens": MAX_SIZE + 1},
])
def test_bad_canvas_is_one_sentence(kwargs):
    with pytest.raises(PerfsimInputError, match="canvas_tokens needs kv_cache=False and an integer"):
        BlockDiffusion(tokens_per_step=2.0, **kwargs)
