"""FFN Fusion (transforms/ffn.py, `ffn_fusion`) as invariants: whatever attention is removed and
however the resulting FFN runs are cut, fusion keeps every weight matrix and every matmul FLOP,
drops only the pre-norms of the fused-away FFNs, and leaves fewer sequential sublayers; plus the
bundled Ultra-253B (HF block_configs), whose four widest FFNs are the paper's fused groups."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.params import model_params
from perfsim.io.load import load_model
from perfsim.spec.model import AttentionSpec, MLPSpec, ModelSpec
from perfsim.transforms import FFNFusion, RemoveAttention
from perfsim.transforms.layout import rebuild

HIDDEN = 256


def _stack(widths: list[int]) -> ModelSpec:
    """A small transformer whose FFN i has width widths[i] (heterogeneous, as Puzzle leaves it)."""
    ops = {"attn": {"type": "attention", "num_heads": 4, "num_kv_heads": 2, "head_dim": 64}}
    ops |= {f"mlp{i}": {"type": "mlp", "intermediate_size": w, "activation": "swiglu"}
            for i, w in enumerate(widths)}
    blocks = [{"repeat": 1, "ops": ["attn", f"mlp{i}"]} for i in range(len(widths))]
    return ModelSpec.model_validate({"id": "fusion-probe", "display_name": "probe", "source": {"url": "test"},
                                     "hidden_size": HIDDEN, "vocab_size": 1000, "max_context_len": 4096,
                                     "operators": ops, "blocks": blocks})


def _matmul_flops(model: ModelSpec, batch: int) -> float:
    step = perfsim.StepBatch(decode_seqs=batch, decode_context=512)
    frame = perfsim.evaluate_step(model, perfsim.load_hardware("h100-sxm"), step).breakdown
    return float(frame.loc[~frame.kernel.str.contains("norm"), "flops"].sum())


@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.sampled_from([128, 384, 512, 1024]), min_size=4, max_size=12),
       removed=st.sets(st.integers(1, 11), min_size=1, max_size=8),
       max_group=st.integers(2, 6), batch=st.sampled_from([1, 7, 64]))
def test_fusion_keeps_weights_and_flops_and_cuts_depth(widths, removed, max_group, batch):
    model = _stack(widths)
    cut = RemoveAttention(layers=sorted(i for i in removed if i < len(widths))).apply(model)
    fused = FFNFusion(max_group=max_group).apply(cut)
    before = [s for s in cut.sublayers if isinstance(s, MLPSpec)]
    after = [s for s in fused.sublayers if isinstance(s, MLPSpec)]
    assert sum(s.intermediate_size for s in after) == sum(s.intermediate_size for s in before)
    dropped = len(before) - len(after)  # each fused-away FFN takes its pre-norm with it
    assert len(fused.sublayers) == len(cut.sublayers) - dropped
    assert model_params(cut).total - model_params(fused).total == dropped * HIDDEN
    assert _matmul_flops(fused, batch) == pytest.approx(_matmul_flops(cut, batch), rel=1e-9)
    assert sum(isinstance(s, AttentionSpec) for s in fused.sublayers) == sum(
        isinstance(s, AttentionSpec) for s in cut.sublayers)
    if dropped:
        assert perfsim.evaluate_step(fused, perfsim.load_hardware("h100-sxm"),
                                     perfsim.StepBatch(decode_seqs=batch, decode_context=512)).kernels < \
            perfsim.evaluate_step(cut, perfsim.load_hardware("h100-sxm"),
                                  perfsim.StepBatch(decode_seqs=batch, decode_context=512)).kernels


def test_no_adjacent_ffns_is_a_no_op():
    model = _stack([256, 512, 256])
    assert FFNFusion().apply(model) is model


GROUPS = [[66, 73], [74, 85], [86, 100], [101, 114]]  # FFN Fusion paper, papers-addendum.md section 7


def _unfused(model: ModelSpec) -> ModelSpec:
    """Each `ffn_fused_<first>_<last>` FFN split evenly (256-wide units) into its FFNs."""
    sequence = []
    for name, spec in zip(model.sublayer_names, model.sublayers, strict=True):
        if not name.startswith("ffn_fused_"):
            sequence.append((name, spec))
            continue
        first, last = (int(i) for i in name.split("_")[-2:])
        n, units = last - first + 1, spec.intermediate_size // 256
        widths = [256 * (units // n + (i < units % n)) for i in range(n)]
        sequence += [(name, spec.model_copy(update={"intermediate_size": w})) for w in widths]
    return rebuild(model, sequence, "split")


def test_fusing_the_puzzle_stack_with_the_published_groups_gives_the_released_ultra():
    ultra = load_model("llama-3.1-nemotron-ultra-253b")
    puzzle = _unfused(ultra)
    assert sum(isinstance(s, MLPSpec) for s in puzzle.sublayers) == 126  # the paper's 126 FFNs
    fused = FFNFusion(groups=GROUPS).apply(puzzle)
    widths = [s.intermediate_size for s in fused.sublayers if isinstance(s, MLPSpec)]
    assert widths == [s.intermediate_size for s in ultra.sublayers if isinstance(s, MLPSpec)]
    assert [type(s) for s in fused.sublayers] == [type(s) for s in ultra.sublayers]
    assert model_params(puzzle).total - model_params(ultra).total == 45 * 16384  # 49 - 4 pre-norms
    assert sum(isinstance(s, AttentionSpec) for s in ultra.sublayers) == 64


def test_fusion_speeds_up_tp8_batch1_decode_through_fewer_sequential_kernels():
    """The FFN Fusion paper's mechanism: same bytes and FLOPs, fewer launches and all-reduces."""
    ultra = load_model("llama-3.1-nemotron-ultra-253b")
    hw, tp8 = perfsim.load_hardware("h100-sxm"), perfsim.Execution(tensor_parallel=8)
    step = perfsim.StepBatch(decode_seqs=1, decode_context=1024)
    a, b = (perfsim.evaluate_step(m, hw, step, tp8) for m in (_unfused(ultra), ultra))
    assert b.kernels < a.kernels and b.latency_s < a.latency_s
    assert b.bytes == pytest.approx(a.bytes, rel=1e-3)
