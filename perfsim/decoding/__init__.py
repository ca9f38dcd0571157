"""Decoding strategies: how tokens are produced per forward pass, and at what cost.

Adding a strategy is one module (plus its test): a frozen dataclass subclassing
`DecodingStrategy`, decorated with `@register_decoding("name")`, implementing expected_tokens and
sample_tokens, and saying its quality (`lossless = True` or published `quality_points`); see
`DecodingStrategy` for the hooks and README.md in this folder for an example. Every module in this
package is imported when the package is, so the new strategy registers itself without an edit here.
"""


from perfsim.decoding.autoregressive import Autoregressive
from perfsim.decoding.base import (
    DecodingStrategy,
    QualityPoint,
    create_decoding,
    register_decoding,
    registered_decodings,
)
from perfsim.decoding.diffusion import BlockDiffusion, TiDAR
from perfsim.decoding.slots import free_token_slots
from perfsim.decoding.speculative import Speculative, expected_tokens_per_verify
from perfsim.registry import import_submodules

import_submodules(__name__, __path__)  # new modules register themselves


def make_decoding(name: str | DecodingStrategy | None, **params) -> DecodingStrategy:
    """A strategy object from a registered name and its parameters (None = autoregressive)."""
    if isinstance(name, DecodingStrategy):
        return name
    return create_decoding("autoregressive" if name is None else name, **params)


__all__ = [
    "Autoregressive", "BlockDiffusion", "DecodingStrategy", "QualityPoint", "Speculative", "TiDAR",
    "expected_tokens_per_verify", "free_token_slots", "make_decoding", "register_decoding",
    "registered_decodings",
]
