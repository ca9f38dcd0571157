"""HybridDesign builds its non-attention mixers with the transforms' replacement recipe: a design
with some Mamba2 / SWA / DeltaNet layers is the all-attention design hybridised."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost.memory import kv_bytes_per_seq
from perfsim.explore.design import HybridDesign
from perfsim.spec.model import AttentionSpec, Mamba2Spec
from perfsim.transforms import REPLACEMENTS, Hybridise, replacement
from perfsim.transforms.hybridise import kept_attention


def test_design_figures_are_unchanged():
    """Golden numbers from before the recipe was shared (README figures depend on them)."""
    design = HybridDesign(n_layers=12, hidden_size=1536, ffns=("mlp", "moe") * 6,
                          mixers=("mamba2", "sliding_window", "gated_deltanet", "attention") * 3)
    model = design.to_model()
    counts = perfsim.model_params(model)
    assert (counts.total, counts.active) == (801183792, 418977840)
    assert kv_bytes_per_seq(model, 10_000) == 48439296
    mamba = model.operators["mamba2"]
    assert (mamba.num_heads, mamba.head_dim, mamba.state_size, mamba.n_groups, mamba.chunk_size) == \
        (48, 64, 128, 1, 128)
    assert model.operators["sliding_window"].window == 512


def test_design_mixers_are_the_recipe():
    design = HybridDesign(n_layers=6, hidden_size=2048, num_heads=16, window=1024, mamba_state=64,
                          mixers=("attention",) + REPLACEMENTS)
    model = design.to_model()
    attn = model.operators["attention"]
    for kind in REPLACEMENTS:
        assert model.operators[kind] == replacement(kind, attn, 2048, design.max_context_len, window=1024,
                                                    mamba_state=64)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(REPLACEMENTS), share=st.floats(0, 1), n_layers=st.integers(1, 24),
       width=st.sampled_from([(1024, 8), (2048, 16), (1536, 12)]))
def test_hybridised_design_equals_design_with_those_mixers(kind, share, n_layers, width):
    hidden, heads = width
    base = HybridDesign(n_layers=n_layers, hidden_size=hidden, num_heads=heads)
    keep = set(kept_attention(n_layers, share))
    mixers = tuple("attention" if i in keep else kind for i in range(n_layers))
    direct = HybridDesign(n_layers=n_layers, hidden_size=hidden, num_heads=heads, mixers=mixers).to_model()
    hybrid = Hybridise(kind, share).apply(base.to_model())
    assert hybrid.sublayers == direct.sublayers
    assert perfsim.model_params(hybrid) == perfsim.model_params(direct)


def test_design_inputs_are_checked_by_name():
    with pytest.raises(perfsim.PerfsimInputError, match=r"design: mamba_state must be an integer from 1 to"):
        HybridDesign(n_layers=2, hidden_size=512, mixers="mamba2", mamba_state=0).to_model()
    with pytest.raises(perfsim.PerfsimInputError, match=r"design: window must be an integer from 1 to"):
        HybridDesign(n_layers=2, hidden_size=512, window=0).to_model()
    ok = HybridDesign(n_layers=2, hidden_size=512, num_kv_heads=0, mixers="mamba2").to_model()
    assert isinstance(ok.sublayers[0], Mamba2Spec)
    assert not any(isinstance(s, AttentionSpec) for s in ok.sublayers)
