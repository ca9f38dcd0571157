"""More work never prices faster: prefill time is non-decreasing in query tokens and in batch.

Issue 21 item 3: wave quantisation used to divide the actual work by the wave fill, so a token
that opened a new 128-row query tile doubled the CTAs and halved the attention time.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.graph import StepBatch
from perfsim.cost.step import step_latency
from perfsim.ops import Attention, kernel_time

DEVICES = ("h100-sxm", "a10g", "jetson-agx-orin-64gb")
#: (num_heads, num_kv_heads, head_dim, window, v_head_dim)
HEADS = (
    (16, 8, 128, None, None),  # qwen3-0.6b
    (32, 8, 128, None, None),  # llama-3.1-8b
    (64, 8, 64, 128, None),  # gpt-oss sliding layers
    (40, 8, 128, None, None),
    (128, 128, 192, None, 128),  # MLA-style split head dims
    (8, 1, 256, 4096, None),
)


_HW = {}
#: Equal work may differ in the last bit (B x H x tiles CTAs over the same per-CTA work).
REL = 1e-12


def _hw(device):
    if device not in _HW:
        _HW[device] = perfsim.load_hardware(device)
    return _HW[device]


def _not_faster(t, base):
    return np.all(np.asarray(t) >= np.asarray(base) * (1 - REL))


def _prefill(batch, q, prefix, heads, causal=True):
    h, kvh, d, window, dv = heads
    return Attention("prefill", batch, q, prefix + q, h, kvh, d, window=window, v_head_dim=dv, causal=causal)


@settings(max_examples=300, deadline=None)
@given(
    device=st.sampled_from(DEVICES),
    heads=st.sampled_from(HEADS),
    batch=st.integers(1, 64),
    q=st.integers(1, 20000),
    extra=st.integers(1, 600),
    prefix=st.sampled_from([0, 0, 1, 500, 8191]),
    causal=st.booleans(),
)
def test_prefill_attention_time_non_decreasing_in_tokens_and_batch(
    device, heads, batch, q, extra, prefix, causal
):
    hw = _hw(device)
    base = kernel_time(hw, _prefill(batch, q, prefix, heads, causal))
    assert _not_faster(kernel_time(hw, _prefill(batch, q + extra, prefix, heads, causal)), base)
    assert _not_faster(kernel_time(hw, _prefill(batch, q + 1, prefix, heads, causal)), base)
    assert _not_faster(kernel_time(hw, _prefill(batch + 1, q, prefix, heads, causal)), base)
    assert _not_faster(kernel_time(hw, _prefill(batch + extra, q, prefix, heads, causal)), base)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("heads", HEADS)
def test_prefill_attention_dense_sweep_across_tile_boundaries(device, heads):
    """Every length 1..4096 and batch 1..8 at once (array shapes): no step down anywhere."""
    q = np.arange(1, 4097, dtype=float)[None, :]
    b = np.arange(1, 9, dtype=float)[:, None]
    t = np.asarray(kernel_time(_hw(device), _prefill(b, q, 0, heads)))
    assert _not_faster(t[:, 1:], t[:, :-1])
    assert _not_faster(t[1:], t[:-1])


def test_issue_case_129_tokens_are_not_faster_than_128():
    """qwen3-0.6b on H100, batch 3: 128 -> 129 prompt tokens was 4.5 % faster."""
    t128 = perfsim.prefill("qwen3-0.6b", "h100-sxm", batch=3, prompt_len=128)
    t129 = perfsim.prefill("qwen3-0.6b", "h100-sxm", batch=3, prompt_len=129)
    assert t129.latency_s >= t128.latency_s
    attn = [r.breakdown.set_index("kernel").loc["attn_prefill", "time_s"] for r in (t128, t129)]
    assert attn[1] >= attn[0]


@pytest.mark.parametrize("model", ["qwen3-0.6b", "llama-3.1-8b", "nemotron-h-8b", "gpt-oss-20b"])
@pytest.mark.parametrize("device", DEVICES)
def test_whole_prefill_step_non_decreasing_in_prompt_and_batch(model, device):
    """Every kernel of the step together (GEMMs, attention, scans, MoE, elementwise)."""
    spec, hw = perfsim.load_model(model), _hw(device)
    lengths = np.arange(1, 2049) + spec.prefix_tokens
    lat = np.array(
        [
            np.broadcast_to(
                step_latency(spec, hw, StepBatch(prefill_seqs=b, prefill_tokens=lengths)), lengths.shape
            )
            for b in range(1, 9)
        ]
    )
    assert _not_faster(lat[:, 1:], lat[:, :-1]), "a longer prompt priced faster"
    assert _not_faster(lat[1:], lat[:-1]), "a larger batch priced faster"
