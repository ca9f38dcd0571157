"""Hugging Face families beyond the Llama shape: gemma2, gemma3, phi3, gptj, mllama.

Each builder takes the config.json object and returns (text config, model fields, layout): the
text config is the one the common fields (hidden_size, vocab_size, ...) are read from (mllama and
multimodal gemma3 nest it under `text_config`), the model fields override the common ones, and
the layout is the `operators` + `blocks` of a perfsim model. Layer layouts follow the HF modelling
code of each family (named per builder).
"""

from __future__ import annotations

from collections.abc import Callable

from perfsim.io.hf_config import attention, layer_types, require, runs, size, sizes, sub_config

Built = tuple[dict, dict, dict]


def _gemma_layout(cfg: dict, source: str, sliding: Callable[[int], bool], qk_norm: bool) -> dict:
    """Local (sliding-window) / global attention layers + a GeGLU MLP (Gemma2/3 DecoderLayer)."""
    layers = size(cfg, "num_hidden_layers", source)
    window = size(cfg, "sliding_window", source)
    types = layer_types(cfg, source, layers)
    if types is not None:
        local = [t == "sliding_attention" for t in types]
    else:
        local = [sliding(i) for i in range(layers)]
    operators = {
        "attn": attention(cfg, source, qk_norm=qk_norm),
        "sliding": attention(cfg, source, window=window, qk_norm=qk_norm),
        "mlp": {
            "type": "mlp",
            "intermediate_size": size(cfg, "intermediate_size", source),
            "activation": "geglu",
        },
    }
    if not any(local):
        del operators["sliding"]
    if all(local):
        del operators["attn"]
    blocks = runs([("sliding" if lo else "attn", "mlp") for lo in local])
    return {"operators": operators, "blocks": blocks}


def _softcap_note(cfg: dict) -> str:
    caps = [
        f"{k} {cfg[k]}"
        for k in ("attn_logit_softcapping", "final_logit_softcapping")
        if cfg.get(k) is not None
    ]
    if not caps:
        return ""
    return (
        "; logit soft-capping (" + ", ".join(caps) + ") is a tanh inside the fused attention "
        "and on the logits, priced as plain attention and lm_head"
    )


def gemma2(cfg: dict, source: str) -> Built:
    """Gemma2: layer i is local when i is even (Gemma2DecoderLayer.is_sliding), 4 norms a layer."""
    layout = _gemma_layout(cfg, source, lambda i: i % 2 == 0, qk_norm=False)
    return (
        cfg,
        {"tie_embeddings": bool(cfg.get("tie_word_embeddings", True)), "note": _softcap_note(cfg)},
        layout,
    )


def gemma3(cfg: dict, source: str) -> Built:
    """Gemma3: five local layers then one global (sliding_window_pattern 6), QK-norm; the
    multimodal config nests the LLM under text_config and adds a SigLIP encoder."""
    text = sub_config(cfg, "text_config", source) if "text_config" in cfg else cfg
    pattern = size(text, "sliding_window_pattern", source, default=6)
    layout = _gemma_layout(text, source, lambda i: (i + 1) % pattern != 0, qk_norm=True)
    fields: dict = {
        "tie_embeddings": bool(text.get("tie_word_embeddings", True)),
        "note": _softcap_note(text),
    }
    if "vision_config" in cfg:
        vis = sub_config(cfg, "vision_config", source)
        image, patch = size(vis, "image_size", source), size(vis, "patch_size", source)
        tokens = size(cfg, "mm_tokens_per_image", source, default=256)
        pool = round(((image // patch) ** 2 / tokens) ** 0.5)
        fields["vision"] = {
            "image_size_px": image,
            "patch_size_px": patch,
            "num_layers": size(vis, "num_hidden_layers", source),
            "hidden_size": size(vis, "hidden_size", source),
            "num_heads": size(vis, "num_attention_heads", source),
            "intermediate_size": size(vis, "intermediate_size", source),
            # average pooling pool x pool patches -> one token counts like a pixel shuffle
            "pixel_shuffle": pool,
            # Gemma3MultiModalProjector is one vision_hidden -> hidden linear (after the pooling);
            # perfsim's projector is pool^2 x vision_hidden -> inner -> hidden, so inner is chosen to
            # give the same weight count (within 10 %: 3 M of a 4.3 B model)
            "projector_intermediate_size": max(
                1,
                round(
                    size(vis, "hidden_size", source)
                    * size(text, "hidden_size", source)
                    / (pool * pool * size(vis, "hidden_size", source) + size(text, "hidden_size", source))
                ),
            ),
        }
    return text, fields, layout


def phi3(cfg: dict, source: str) -> Built:
    """Phi-3 / Phi-3.5: Llama-shaped (fused qkv and gate_up are the same weights), SwiGLU; a
    `sliding_window` narrower than the context is applied (Phi3Attention passes it to the kernel)."""
    layers = size(cfg, "num_hidden_layers", source)
    ctx = size(cfg, "max_position_embeddings", source, default=4096)
    window = cfg.get("sliding_window")
    window = size(cfg, "sliding_window", source) if window is not None else None
    attn = attention(cfg, source, window=window if window and window < ctx else None)
    ffn = {"type": "mlp", "intermediate_size": size(cfg, "intermediate_size", source)}
    return (
        cfg,
        {},
        {"operators": {"attn": attn, "ffn": ffn}, "blocks": [{"repeat": layers, "ops": ["attn", "ffn"]}]},
    )


def gptj(cfg: dict, source: str) -> Built:
    """GPT-J: attention and MLP read the same LayerNorm output in parallel (GPTJBlock); perfsim
    runs their kernels one after the other (same GEMMs and bytes, one pre-norm launch more).
    Non-gated gelu MLP with biases, no attention biases, untied lm_head."""
    hidden, heads = size(cfg, "n_embd", source), size(cfg, "n_head", source)
    text = {
        **cfg,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "max_position_embeddings": size(cfg, "n_positions", source, default=2048),
    }
    inner = size(cfg, "n_inner", source, default=4 * hidden)
    layout = {
        "operators": {
            "attn": attention(text, source),
            "mlp": {"type": "mlp", "intermediate_size": inner, "activation": "gelu", "bias": True},
        },
        "blocks": [{"repeat": size(cfg, "n_layer", source), "ops": ["attn", "mlp"]}],
    }
    return text, {"norm": "layernorm", "tie_embeddings": bool(cfg.get("tie_word_embeddings", False))}, layout


def mllama(cfg: dict, source: str) -> Built:
    """Llama-3.2-Vision: the text stack interleaves gated cross-attention decoder layers at
    `cross_attention_layers` (HF MllamaTextModel), embeddings have 8 extra rows (image and
    special tokens); the ViT-H/14 encoder (32 local + 8 global layers) goes to the VLM path."""
    text = sub_config(cfg, "text_config", source)
    vis = sub_config(cfg, "vision_config", source)
    layers = size(text, "num_hidden_layers", source)
    cross = set(sizes(text, "cross_attention_layers", source))
    image, patch = size(vis, "image_size", source), size(vis, "patch_size", source)
    tiles = size(vis, "max_num_tiles", source, default=4)
    self_attn = attention(text, source)
    xattn = {
        **self_attn,
        "type": "cross_attention",
        "num_context_tokens": tiles * ((image // patch) ** 2 + 1),
    }
    layout = {
        "operators": {
            "attn": self_attn,
            "xattn": xattn,
            "mlp": {"type": "mlp", "intermediate_size": size(text, "intermediate_size", source)},
        },
        "blocks": runs([("xattn" if i in cross else "attn", "mlp") for i in range(layers)]),
    }
    vision = {
        "image_size_px": image,
        "patch_size_px": patch,
        "num_layers": size(vis, "num_hidden_layers", source)
        + size(vis, "num_global_layers", source, default=0),
        "hidden_size": size(vis, "hidden_size", source),
        "num_heads": size(vis, "attention_heads", source),
        "intermediate_size": size(vis, "intermediate_size", source),
        "extra_tokens": 1,
        "pixel_shuffle": 1,
        # the projector reads the concatenated multi-layer features (vision_output_dim wide)
        "projector_intermediate_size": size(vis, "vision_output_dim", source, default=7680),
    }
    return (
        text,
        {
            "extra_embedding_rows": 8,
            "vision": vision,
            "tie_embeddings": bool(text.get("tie_word_embeddings", False)),
        },
        layout,
    )


FAMILIES: dict[str, Callable[[dict, str], Built]] = {
    "gemma2": gemma2,
    "gemma3": gemma3,
    "gemma3_text": gemma3,
    "phi3": phi3,
    "gptj": gptj,
    "mllama": mllama,
}

__all__ = ["FAMILIES", "require"]
