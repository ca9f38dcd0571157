"""Hugging Face config.json -> perfsim model description, for the common families.

Supported `model_type`s: SUPPORTED below (gemma2, gemma3, phi3, gptj and mllama are built in
perfsim.io.hf_families). Anything else raises one sentence listing the supported types (no
guessing); a malformed config (a list, null or non-integer sizes, missing fields) raises one
sentence naming the file and field (perfsim.io.hf_config). An FP8 `quantization_config`
(DeepSeek-V3's release) makes the weights fp8.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.io.hf_config import as_config, attention, layer_types, require, size
from perfsim.io.hf_families import FAMILIES
from perfsim.spec.model import ModelSpec

SUPPORTED = ("llama", "mistral", "qwen2", "qwen3", "qwen3_moe", "mixtral", "gpt_oss", "nemotron_h",
             "deepseek_v2", "deepseek_v3", *FAMILIES)

_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def _require(cfg: dict, key: str, source: str) -> Any:
    return size(cfg, key, source) if key in _SIZES else require(cfg, key, source)


#: Fields read by `_require` that must be positive integers.
_SIZES = {"num_hidden_layers", "num_attention_heads", "hidden_size", "intermediate_size", "vocab_size",
          "num_local_experts", "num_experts", "num_experts_per_tok", "moe_intermediate_size",
          "mamba_num_heads", "mamba_head_dim", "ssm_state_size", "n_routed_experts", "kv_lora_rank",
          "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "sliding_window"}


def _attention(cfg: dict, source: str, window: int | None = None, **extra) -> dict:
    return attention(cfg, source, window, **extra)


def _layout_transformer(cfg: dict, source: str, mixer_ops: dict, ffn: dict) -> dict:
    layers = _require(cfg, "num_hidden_layers", source)
    types = layer_types(cfg, source, layers)
    operators = {**mixer_ops, "ffn": ffn}
    if types is not None and "sliding" in mixer_ops:
        blocks = [{"ops": ["sliding" if t == "sliding_attention" else "attn", "ffn"]} for t in types]
    else:
        blocks = [{"repeat": layers, "ops": ["attn", "ffn"]}]
    return {"operators": operators, "blocks": blocks}


def _layout_deepseek(cfg: dict, source: str) -> dict:
    """MLA in every layer; a dense MLP in the first `first_k_dense_replace` layers and wherever
    the layer index is not a multiple of `moe_layer_freq`, MoE elsewhere (HF DeepseekV2/V3
    DecoderLayer). The multi-token-prediction layers (num_nextn_predict_layers) are not part of
    the base model."""
    layers = _require(cfg, "num_hidden_layers", source)
    attn = {"type": "mla", "num_heads": _require(cfg, "num_attention_heads", source),
            "q_lora_rank": cfg.get("q_lora_rank"), "kv_lora_rank": _require(cfg, "kv_lora_rank", source),
            "qk_nope_head_dim": _require(cfg, "qk_nope_head_dim", source),
            "qk_rope_head_dim": _require(cfg, "qk_rope_head_dim", source),
            "v_head_dim": _require(cfg, "v_head_dim", source)}
    operators = {"attn": attn, "mlp": {"type": "mlp", "intermediate_size": _require(cfg, "intermediate_size",
                                                                                   source)}}
    dense, freq = cfg.get("first_k_dense_replace", 0), cfg.get("moe_layer_freq", 1)
    routed = cfg.get("n_routed_experts")
    kinds = ["moe" if routed and i >= dense and i % freq == 0 else "mlp" for i in range(layers)]
    if "moe" in kinds:
        width = _require(cfg, "moe_intermediate_size", source)
        shared = cfg.get("n_shared_experts") or 0
        operators["moe"] = {"type": "moe", "num_experts": routed,
                            "top_k": _require(cfg, "num_experts_per_tok", source),
                            "expert_intermediate_size": width, "num_shared_experts": shared,
                            "shared_intermediate_size": width if shared else 0,
                            # noaux_tc routing adds a learned per-expert score correction bias
                            "router_bias": cfg.get("topk_method") == "noaux_tc"}
    if "mlp" not in kinds:
        del operators["mlp"]
    blocks: list[dict] = []
    for kind in kinds:  # runs of identical layers become repeated blocks
        if blocks and blocks[-1]["ops"][1] == kind:
            blocks[-1]["repeat"] += 1
        else:
            blocks.append({"repeat": 1, "ops": ["attn", kind]})
    return {"operators": operators, "blocks": blocks}


def _weight_dtype(cfg: dict) -> str:
    if (cfg.get("quantization_config") or {}).get("quant_method") == "fp8":
        return "fp8"
    return _DTYPES.get(str(cfg.get("torch_dtype") or cfg.get("dtype")), "bf16")


def model_from_hf_config(cfg: dict, source: str = "config.json") -> ModelSpec:
    cfg = as_config(cfg, source)
    kind = cfg.get("model_type")
    if kind not in SUPPORTED:
        supported = ", ".join(SUPPORTED)
        raise PerfsimInputError(f"{source}: field 'model_type' is {kind!r}; supported: {supported}.")
    name = cfg.get("_name_or_path") or f"hf-{kind}"
    text, fields, family_layout = FAMILIES[kind](cfg, source) if kind in FAMILIES else (cfg, {}, None)
    note = "imported from a Hugging Face config.json" + fields.pop("note", "")
    common = {
        "id": str(name).split("/")[-1].lower() or f"hf-{kind}",
        "display_name": str(name),
        "source": {"url": source, "note": note},
        "hidden_size": _require(text, "hidden_size", source),
        "vocab_size": _require(text, "vocab_size", source),
        "tie_embeddings": bool(text.get("tie_word_embeddings", False)),
        "max_context_len": size(text, "max_position_embeddings", source, default=4096),
        "dtypes": {"weights": _weight_dtype(cfg),
                   "activations": "bf16", "kv_cache": "bf16"},
        **fields,
    }
    if family_layout is not None:
        return _validated({**common, **family_layout}, source)
    qwen3 = kind in ("qwen3", "qwen3_moe")
    if kind in ("llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen3_moe"):
        attn = _attention(cfg, source, qkv_bias=bool(cfg.get("attention_bias")) or kind == "qwen2",
                          qk_norm=qwen3)
        if cfg.get("sliding_window") and cfg.get("use_sliding_window", kind == "mistral"):
            attn["window"] = min(size(cfg, "sliding_window", source), common["max_context_len"])
        if kind in ("mixtral", "qwen3_moe"):
            ffn = {"type": "moe", "num_experts": _require(cfg, "num_local_experts" if kind == "mixtral"
                                                          else "num_experts", source),
                   "top_k": _require(cfg, "num_experts_per_tok", source),
                   "expert_intermediate_size": cfg.get("moe_intermediate_size")
                   or _require(cfg, "intermediate_size", source)}
        else:
            ffn = {"type": "mlp", "intermediate_size": _require(cfg, "intermediate_size", source)}
        layout = _layout_transformer(cfg, source, {"attn": attn}, ffn)
    elif kind == "gpt_oss":
        extra = {"qkv_bias": True, "o_bias": True, "sinks": True}
        mixers = {"attn": _attention(cfg, source, **extra),
                  "sliding": _attention(cfg, source, window=_require(cfg, "sliding_window", source),
                                        **extra)}
        ffn = {"type": "moe", "num_experts": _require(cfg, "num_local_experts", source),
               "top_k": _require(cfg, "num_experts_per_tok", source),
               "expert_intermediate_size": _require(cfg, "intermediate_size", source),
               "expert_bias": True, "router_bias": True}
        layout = _layout_transformer(cfg, source, mixers, ffn)
    elif kind == "nemotron_h":
        pattern = _require(cfg, "hybrid_override_pattern", source)
        layout = {
            "layer_pattern": pattern,
            "pattern_ops": {"M": "mamba", "*": "attn", "-": "mlp", "E": "moe"},
            "operators": {
                "mamba": {"type": "mamba2", "num_heads": _require(cfg, "mamba_num_heads", source),
                          "head_dim": _require(cfg, "mamba_head_dim", source),
                          "state_size": _require(cfg, "ssm_state_size", source),
                          "n_groups": cfg.get("n_groups", 1), "conv_kernel": cfg.get("conv_kernel", 4),
                          "chunk_size": cfg.get("chunk_size", 128)},
                "attn": _attention(cfg, source),
                "mlp": {"type": "mlp", "intermediate_size": _require(cfg, "intermediate_size", source),
                        "activation": "relu2"},
            },
        }
        if "E" in pattern:
            layout["operators"]["moe"] = {
                "type": "moe", "num_experts": _require(cfg, "n_routed_experts", source),
                "top_k": _require(cfg, "num_experts_per_tok", source),
                "expert_intermediate_size": _require(cfg, "moe_intermediate_size", source),
                "num_shared_experts": cfg.get("n_shared_experts", 0),
                "shared_intermediate_size": cfg.get("moe_shared_expert_intermediate_size", 0),
                "activation": "relu2"}
        if "-" not in pattern:
            del layout["operators"]["mlp"]
            del layout["pattern_ops"]["-"]
    else:  # deepseek_v2 / deepseek_v3
        layout = _layout_deepseek(cfg, source)
    return _validated({**common, **layout}, source)


def _validated(data: dict, source: str) -> ModelSpec:
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(source, exc) from None


def model_to_yaml_dict(model: ModelSpec) -> dict:
    """Plain data for writing a model description back to YAML."""
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
