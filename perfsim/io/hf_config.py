"""Checked reads of Hugging Face config.json fields: one sentence naming the file and field.

A config.json is user input: it can be a list, hold null, 0, "8" or [512] where a size belongs,
or miss a field a family needs. Every size the importer uses goes through `size()`, so arithmetic
on it (hidden_size // num_attention_heads) can never raise a TypeError or ZeroDivisionError.
"""

from __future__ import annotations

from typing import Any

from perfsim.errors import PerfsimInputError


def as_config(cfg: Any, source: str) -> dict:
    """The config object itself; anything but a JSON object is refused."""
    if not isinstance(cfg, dict):
        raise PerfsimInputError(
            f"{source}: a config.json must hold one JSON object (got {type(cfg).__name__})."
        )
    return cfg


def require(cfg: dict, key: str, source: str) -> Any:
    """A field the family needs, present and not null."""
    if cfg.get(key) is None:
        state = "null" if key in cfg else "missing"
        raise PerfsimInputError(
            f"{source}: field '{key}' is required for model_type '{cfg.get('model_type')}' but {state}."
        )
    return cfg[key]


def size(cfg: dict, key: str, source: str, default: int | None = None) -> int:
    """A positive integer field (a count or a width); `default` when absent or null, if given."""
    if cfg.get(key) is None and default is not None:
        return default
    value = require(cfg, key, source)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PerfsimInputError(f"{source}: field '{key}' must be a positive integer (got {value!r}).")
    return value


def sizes(cfg: dict, key: str, source: str, default: list[int] | None = None) -> list[int]:
    """A list of non-negative integers (layer indices)."""
    value = cfg.get(key)
    if value is None and default is not None:
        return default
    value = require(cfg, key, source)
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value
    ):
        raise PerfsimInputError(f"{source}: field '{key}' must be a list of layer indices (got {value!r}).")
    return value


def layer_types(cfg: dict, source: str, layers: int) -> list[str] | None:
    """`layer_types` (one entry per layer) when the config has it; a list of another length would
    silently make a shorter or longer model, so it is one sentence instead."""
    types = cfg.get("layer_types")
    if types is None:
        return None
    if not (isinstance(types, list) and all(isinstance(t, str) for t in types) and len(types) == layers):
        raise PerfsimInputError(f"{source}: field 'layer_types' must list one string per layer "
                                f"(num_hidden_layers = {layers}; got {types!r:.80}).")
    return types


def sub_config(cfg: dict, key: str, source: str) -> dict:
    """A nested config (text_config / vision_config) with the parent's model_type for messages."""
    value = require(cfg, key, source)
    if not isinstance(value, dict):
        raise PerfsimInputError(
            f"{source}: field '{key}' must be a JSON object (got {type(value).__name__})."
        )
    return {"model_type": cfg.get("model_type"), **value}


def head_dim(cfg: dict, source: str, heads: int, hidden: int) -> int:
    """`head_dim` if given, else hidden_size / num_attention_heads (which must divide)."""
    if cfg.get("head_dim") is not None:
        return size(cfg, "head_dim", source)
    if hidden % heads:
        raise PerfsimInputError(
            f"{source}: field 'hidden_size' ({hidden}) must be a multiple of "
            f"'num_attention_heads' ({heads}) when 'head_dim' is not given."
        )
    return hidden // heads


def attention(cfg: dict, source: str, window: int | None = None, **extra: Any) -> dict:
    """A softmax-attention operator from the usual Llama-style fields."""
    heads = size(cfg, "num_attention_heads", source)
    hidden = size(cfg, "hidden_size", source)
    return {
        "type": "attention",
        "num_heads": heads,
        "num_kv_heads": size(cfg, "num_key_value_heads", source, default=heads),
        "head_dim": head_dim(cfg, source, heads, hidden),
        **({"window": window} if window else {}),
        **extra,
    }


def runs(kinds: list[tuple[str, ...]]) -> list[dict]:
    """Per-layer op tuples -> blocks, runs of identical layers folded into one repeated block."""
    blocks: list[dict] = []
    for ops in kinds:
        if blocks and tuple(blocks[-1]["ops"]) == ops:
            blocks[-1]["repeat"] += 1
        else:
            blocks.append({"repeat": 1, "ops": list(ops)})
    return blocks
