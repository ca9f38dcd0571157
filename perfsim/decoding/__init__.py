"""Decoding strategies: how tokens are produced per forward pass, and at what cost.

Adding a strategy: a frozen dataclass subclassing `DecodingStrategy`, decorated with
`@register_decoding("name")`, implementing expected_tokens, sample_tokens and iteration_latency.
"""

from perfsim.decoding.autoregressive import Autoregressive
from perfsim.decoding.base import (
    DecodingStrategy,
    create_decoding,
    register_decoding,
    registered_decodings,
)
from perfsim.decoding.diffusion import BlockDiffusion, TiDAR
from perfsim.decoding.slots import free_token_slots
from perfsim.decoding.speculative import Speculative, expected_tokens_per_verify


def make_decoding(name: str | DecodingStrategy | None, **params) -> DecodingStrategy:
    """A strategy object from a registered name and its parameters (None = autoregressive)."""
    if isinstance(name, DecodingStrategy):
        return name
    return create_decoding("autoregressive" if name is None else name, **params)


__all__ = [
    "Autoregressive", "BlockDiffusion", "DecodingStrategy", "Speculative", "TiDAR",
    "expected_tokens_per_verify", "free_token_slots", "make_decoding", "register_decoding",
    "registered_decodings",
]
