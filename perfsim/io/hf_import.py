"""Hugging Face config.json -> perfsim model description, for the common families.

Supported `model_type`s: llama, mistral, qwen2, qwen3, qwen3_moe, gpt_oss, mixtral, nemotron_h.
Anything else raises one sentence listing the supported types (no guessing).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from perfsim.errors import PerfsimInputError, describe_validation_error
from perfsim.spec.model import ModelSpec

_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def _require(cfg: dict, key: str, source: str) -> Any:
    if key not in cfg:
        raise PerfsimInputError(f"{source}: field '{key}' is required for model_type "
                                f"'{cfg.get('model_type')}' but missing.")
    return cfg[key]


def _attention(cfg: dict, source: str, window: int | None = None, **extra) -> dict:
    heads = _require(cfg, "num_attention_heads", source)
    hidden = _require(cfg, "hidden_size", source)
    return {
        "type": "attention",
        "num_heads": heads,
        "num_kv_heads": cfg.get("num_key_value_heads") or heads,
        "head_dim": cfg.get("head_dim") or hidden // heads,
        **({"window": window} if window else {}),
        **extra,
    }


def _layout_transformer(cfg: dict, source: str, mixer_ops: dict, ffn: dict) -> dict:
    layers = _require(cfg, "num_hidden_layers", source)
    layer_types = cfg.get("layer_types")
    operators = {**mixer_ops, "ffn": ffn}
    if layer_types and "sliding" in mixer_ops:
        blocks = [{"ops": ["sliding" if t == "sliding_attention" else "attn", "ffn"]}
                  for t in layer_types[:layers]]
    else:
        blocks = [{"repeat": layers, "ops": ["attn", "ffn"]}]
    return {"operators": operators, "blocks": blocks}


def model_from_hf_config(cfg: dict, source: str = "config.json") -> ModelSpec:
    kind = cfg.get("model_type")
    name = cfg.get("_name_or_path") or f"hf-{kind}"
    common = {
        "id": str(name).split("/")[-1].lower() or f"hf-{kind}",
        "display_name": str(name),
        "source": {"url": source, "note": "imported from a Hugging Face config.json"},
        "hidden_size": _require(cfg, "hidden_size", source),
        "vocab_size": _require(cfg, "vocab_size", source),
        "tie_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "max_context_len": cfg.get("max_position_embeddings") or 4096,
        "dtypes": {"weights": _DTYPES.get(cfg.get("torch_dtype") or cfg.get("dtype"), "bf16"),
                   "activations": "bf16", "kv_cache": "bf16"},
    }
    qwen3 = kind in ("qwen3", "qwen3_moe")
    if kind in ("llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen3_moe"):
        attn = _attention(cfg, source, qkv_bias=bool(cfg.get("attention_bias")) or kind == "qwen2",
                          qk_norm=qwen3)
        if cfg.get("sliding_window") and cfg.get("use_sliding_window", kind == "mistral"):
            attn["window"] = min(cfg["sliding_window"], common["max_context_len"])
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
    else:
        supported = "llama, mistral, qwen2, qwen3, qwen3_moe, mixtral, gpt_oss, nemotron_h"
        raise PerfsimInputError(f"{source}: field 'model_type' is {kind!r}; supported: {supported}.")
    try:
        return ModelSpec.model_validate({**common, **layout})
    except ValidationError as exc:
        raise describe_validation_error(source, exc) from None


def model_to_yaml_dict(model: ModelSpec) -> dict:
    """Plain data for writing a model description back to YAML."""
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
