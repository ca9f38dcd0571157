"""The torch validation model: parameter counts match perfsim, cached decode equals full prefill,
chunked scans equal their recurrences, sliding windows and MoE routing do what they claim."""

import pytest

pytestmark = pytest.mark.calibrate

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import perfsim  # noqa: E402
from perfsim.calibrate import torch_ops as ops  # noqa: E402
from perfsim.calibrate.torch_model import TorchLM, build_torch_model, count_parameters  # noqa: E402
from perfsim.io.catalog import list_ids  # noqa: E402
from perfsim.spec.model import ModelSpec  # noqa: E402

VOCAB = 256


def spec(operators: dict, layers: list[str], **extra) -> ModelSpec:
    return ModelSpec.model_validate({
        "id": "test", "display_name": "test", "source": {"url": "test"}, "hidden_size": 64,
        "vocab_size": VOCAB, "max_context_len": 256, "operators": operators,
        "blocks": [{"ops": layers}], **extra,
    })


ATTN = {"type": "attention", "num_heads": 4, "num_kv_heads": 4, "head_dim": 16}
MLP = {"type": "mlp", "intermediate_size": 96}
SPECS = {
    "dense": spec({"attn": ATTN, "mlp": MLP}, ["attn", "mlp", "attn", "mlp"], tie_embeddings=True),
    "gqa_window": spec(
        {"attn": {**ATTN, "num_kv_heads": 2, "window": 8, "qkv_bias": True, "o_bias": True, "qk_norm": True},
         "mlp": {**MLP, "activation": "geglu", "bias": True}},
        ["attn", "mlp", "attn", "mlp"], norm="layernorm", extra_embedding_rows=8),
    "sinks_window": spec(
        {"swa": {**ATTN, "num_kv_heads": 1, "window": 6, "sinks": True}, "full": {**ATTN, "sinks": True},
         "mlp": {**MLP, "activation": "gelu"}}, ["swa", "mlp", "full", "mlp"]),
    "moe": spec(
        {"attn": {**ATTN, "num_kv_heads": 2},
         "moe": {"type": "moe", "num_experts": 8, "top_k": 2, "expert_intermediate_size": 32,
                 "num_shared_experts": 2, "shared_intermediate_size": 24, "router_bias": True},
         "latent": {"type": "moe", "num_experts": 6, "top_k": 3, "expert_intermediate_size": 16,
                    "latent_dim": 32, "activation": "relu2", "expert_bias": True}},
        ["attn", "moe", "attn", "latent"]),
    "mamba2_hybrid": spec(
        {"mamba": {"type": "mamba2", "num_heads": 4, "head_dim": 16, "state_size": 8, "n_groups": 2,
                   "conv_kernel": 4, "chunk_size": 8, "proj_bias": True},
         "attn": {**ATTN, "num_kv_heads": 1}, "mlp": {**MLP, "activation": "relu2"}},
        ["mamba", "mlp", "attn", "mlp", "mamba", "mlp"], tie_embeddings=True),
    "gla": spec(
        {"gla": {"type": "linear_attention", "variant": "gla", "num_heads": 2, "head_k_dim": 16,
                 "head_v_dim": 32, "chunk_size": 8},
         "mlp": {**MLP, "activation": "silu"}}, ["gla", "mlp", "gla", "mlp"]),
    "deltanet": spec(
        {"dn": {"type": "linear_attention", "variant": "deltanet", "num_heads": 2, "head_k_dim": 16,
                "head_v_dim": 16, "chunk_size": 8, "output_gate": False},
         "gdn": {"type": "linear_attention", "variant": "gated_deltanet", "num_heads": 2, "head_k_dim": 16,
                 "head_v_dim": 32, "chunk_size": 8, "conv_kernel": 3},
         "mlp": MLP}, ["dn", "mlp", "gdn", "mlp"]),
}


@pytest.mark.parametrize("name", SPECS)
def test_parameter_count_matches_perfsim(name):
    model = build_torch_model(SPECS[name])
    assert count_parameters(model) == perfsim.model_params(SPECS[name]).total


@pytest.mark.parametrize("model_id", list_ids("models"))
def test_bundled_models_parameter_count(model_id):
    """Every bundled model (the two tiny validation models included) has perfsim's count; built on
    the meta device, so nothing is allocated or run."""
    spec_ = perfsim.load_model(model_id)
    with torch.device("meta"):
        model = TorchLM(spec_)
    assert count_parameters(model) == perfsim.model_params(spec_).total


def test_same_seed_same_weights():
    """Same seed: same weights, in every dtype (rounded); another seed: other weights."""
    models = [build_torch_model(SPECS["mamba2_hybrid"], seed=s) for s in (0, 0, 1)]
    models.append(build_torch_model(SPECS["mamba2_hybrid"], seed=0, dtype=torch.bfloat16))
    pa, pb, pc, pd = (torch.cat([p.flatten() for p in m.parameters()]) for m in models)
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    assert torch.equal(pa.bfloat16(), pd)
    assert pa.isfinite().all()


def _tokens(batch, length, seed=0):
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", SPECS)
def test_cached_decode_equals_full_prefill(name):
    """Prefill a prompt, extend it by a multi-token chunk, decode the rest token by token: every
    logit equals the one-shot prefill's at that position. Lengths exceed the windows (8, 6) and
    span several Mamba2 / linear-attention chunks (8) without being a multiple of them."""
    model = build_torch_model(SPECS[name], std=0.1)
    total, prompt, chunk = 29, 11, 7
    tokens = _tokens(2, total)
    with torch.inference_mode():
        full = model(tokens, model.allocate_cache(2, 32), 0, all_logits=True)
        cache = model.allocate_cache(2, 32)
        got = [model(tokens[:, :prompt], cache, 0)[:, None]]
        got.append(model(tokens[:, prompt : prompt + chunk], cache, prompt, all_logits=True))
        got += [model(tokens[:, p : p + 1], cache, p)[:, None] for p in range(prompt + chunk, total)]
        stepwise = torch.cat(got, 1)
        # the last prompt token reaches the first decoded logits only through the cache
        changed = tokens.clone()
        changed[:, prompt - 1] = (changed[:, prompt - 1] + 1) % VOCAB
        other = model(changed, model.allocate_cache(2, 32), 0, all_logits=True)
    assert full.shape == (2, total, VOCAB)
    torch.testing.assert_close(stepwise, full[:, prompt - 1 :], rtol=1e-4, atol=1e-5)
    assert (other[:, prompt] - full[:, prompt]).abs().max() > 1e-3


def test_new_sequence_resets_recurrent_state():
    """start_pos 0 starts afresh even when the cache holds another sequence's state."""
    model = build_torch_model(SPECS["mamba2_hybrid"], std=0.1)
    tokens = _tokens(1, 12)
    with torch.inference_mode():
        used = model.allocate_cache(1, 16)
        model(_tokens(1, 12, seed=5), used, 0)
        for length in (1, 12):
            torch.testing.assert_close(model(tokens[:, :length], used, 0),
                                       model(tokens[:, :length], model.allocate_cache(1, 16), 0))


def test_cache_overflow_is_an_error():
    model = build_torch_model(SPECS["dense"])
    with torch.inference_mode(), pytest.raises(ValueError, match="do not fit"):
        model(_tokens(1, 9), model.allocate_cache(1, 8), 0)


def test_sliding_window_restricts_attention():
    """One window-4 attention layer: the last query (position 11) sees positions 8..11 only."""
    window = spec({"attn": {**ATTN, "window": 4}, "mlp": MLP}, ["attn", "mlp"])
    model = build_torch_model(window, std=0.1)
    tokens = _tokens(1, 12)

    def last_logits(toks):
        with torch.inference_mode():
            prefill = model(toks, model.allocate_cache(1, 12), 0)
            cache = model.allocate_cache(1, 12)
            model(toks[:, :11], cache, 0)
            return prefill, model(toks[:, 11:], cache, 11)

    base = last_logits(tokens)
    for pos, visible in ((7, False), (0, False), (8, True)):
        changed = tokens.clone()
        changed[0, pos] = (changed[0, pos] + 1) % VOCAB
        for ref, out in zip(base, last_logits(changed), strict=True):
            diff = (out - ref).abs().max().item()
            assert (diff > 1e-3) if visible else (diff < 1e-6), (pos, diff)


def test_moe_matches_dense_reference():
    """Sorted per-expert dispatch equals computing every expert densely and mixing the top-k."""
    model = build_torch_model(SPECS["moe"], std=0.1)
    for moe in (model.layers[1].op, model.layers[3].op):
        x = torch.randn(3, 5, 64, generator=torch.Generator().manual_seed(1))
        with torch.inference_mode():
            got = moe(x)
            xf = x.reshape(-1, 64)
            probs = moe.router(xf).softmax(-1)
            top, idx = probs.topk(moe.k, -1)
            weight = torch.zeros_like(probs).scatter(1, idx, top / top.sum(-1, keepdim=True))
            xr = moe.latent_down(xf) if moe.latent_down is not None else xf
            up = torch.einsum("tw,ewf->etf", xr, moe.w_up)
            if moe.b_up is not None:
                up = up + moe.b_up[:, None]
            out = torch.einsum("etf,efw->etw", ops.activation(up, moe.kind), moe.w_down)
            if moe.b_down is not None:
                out = out + moe.b_down[:, None]
            ref = torch.einsum("te,etw->tw", weight, out)
            if moe.latent_up is not None:
                ref = moe.latent_up(ref)
            if moe.shared is not None:
                ref = ref + moe.shared(xf)
        torch.testing.assert_close(got, ref.view(3, 5, 64), rtol=1e-4, atol=1e-5)


def _rand(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("chunk", [1, 5, 8, 64])
def test_mamba2_chunked_scan_equals_recurrence(chunk):
    b, n_tok, h, p, g, n = 2, 37, 4, 8, 2, 6
    x, B, C = _rand(b, n_tok, h, p, seed=0), _rand(b, n_tok, g, n, seed=1), _rand(b, n_tok, g, n, seed=2)
    dt = F.softplus(_rand(b, n_tok, h, seed=3) - 1.0)
    A = -torch.linspace(0.5, 4.0, h)
    s0 = _rand(b, h, p, n, seed=4)
    y, final = ops.mamba2_chunked_scan(x, dt, A, B, C, chunk, initial_state=s0)
    state, ys = s0.clone(), []
    for t in range(n_tok):
        ys.append(ops.mamba2_step(x[:, t], dt[:, t], A, B[:, t], C[:, t], state)[0])
    torch.testing.assert_close(y, torch.stack(ys, 1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(final, state, rtol=1e-4, atol=1e-4)
    y0, _ = ops.mamba2_chunked_scan(x, dt, A, B, C, chunk)
    assert (y0 - y).abs().max() > 1e-2  # the initial state matters


@pytest.mark.parametrize("chunk", [1, 4, 7, 64])
def test_gla_chunked_equals_recurrence(chunk):
    b, n_tok, h, dk, dv = 2, 30, 3, 8, 12
    q, k, v = _rand(b, n_tok, h, dk, seed=0), _rand(b, n_tok, h, dk, seed=1), _rand(b, n_tok, h, dv, seed=2)
    g = F.logsigmoid(_rand(b, n_tok, h, dk, seed=3) + 2.0)
    s0 = _rand(b, h, dk, dv, seed=4)
    o, final = ops.gla_chunked(q, k, v, g, chunk, initial_state=s0)
    state, os_ = s0.clone(), []
    for t in range(n_tok):
        os_.append(ops.gla_step(q[:, t], k[:, t], v[:, t], g[:, t], state)[0])
    torch.testing.assert_close(o, torch.stack(os_, 1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(final, state, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("chunk", [1, 4, 7, 64])
def test_delta_rule_chunked_equals_recurrence(chunk, gated):
    b, n_tok, h, dk, dv = 2, 30, 3, 8, 12
    q, v = _rand(b, n_tok, h, dk, seed=0), _rand(b, n_tok, h, dv, seed=2)
    k = F.normalize(_rand(b, n_tok, h, dk, seed=1), dim=-1)
    beta = torch.sigmoid(_rand(b, n_tok, h, seed=3))
    g = F.logsigmoid(_rand(b, n_tok, h, seed=5) + 2.0) if gated else None
    s0 = _rand(b, h, dk, dv, seed=4)
    o, final = ops.delta_rule_chunked(q, k, v, beta, g, chunk, initial_state=s0)
    state, os_ = s0.clone(), []
    for t in range(n_tok):
        os_.append(ops.delta_rule_step(q[:, t], k[:, t], v[:, t], beta[:, t], None if g is None else g[:, t],
                                       state)[0])
    torch.testing.assert_close(o, torch.stack(os_, 1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(final, state, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["mamba2_hybrid", "gla", "deltanet", "gqa_window"])
def test_bf16_logits_close_to_fp32(name):
    """Same weights in bf16: logits within bf16 rounding of fp32 (no dtype-fragile step)."""
    logits = []
    for dtype in (torch.float32, torch.bfloat16):
        model = build_torch_model(SPECS[name], dtype=dtype, std=0.1)
        with torch.inference_mode():
            logits.append(model(_tokens(2, 29), model.allocate_cache(2, 29), 0, all_logits=True).float())
    ref, got = logits
    assert (got - ref).norm() / ref.norm() < 0.05


def test_bf16_forward_is_finite():
    everything = spec(
        {**SPECS["mamba2_hybrid"].operators, **SPECS["moe"].operators, **SPECS["gla"].operators,
         **SPECS["deltanet"].operators, "swa": SPECS["sinks_window"].operators["swa"]},
        ["mamba", "moe", "attn", "latent", "gla", "mlp", "dn", "gdn", "swa", "mlp"])
    model = build_torch_model(everything, dtype=torch.bfloat16, std=0.1)
    tokens = _tokens(2, 21)
    with torch.inference_mode():
        cache = model.allocate_cache(2, 24)
        logits = [model(tokens[:, :20], cache, 0), model(tokens[:, 20:], cache, 20)]
    for out in logits:
        assert out.dtype == torch.bfloat16 and out.shape == (2, VOCAB)
        assert out.isfinite().all() and out.abs().max() > 0
