"""Layer kinds: one module per kind (its spec, parameters, cache bytes and kernels).

Every module of this package is imported here, so a new kind registers itself by existing (see
README.md). The built-in kinds come first, in the order the spec union has always listed them.
"""

from __future__ import annotations

from perfsim.layers.base import (
    DECODE,
    PREFILL,
    ROWS,
    TOKEN,
    Kernel,
    KernelRole,
    LayerKind,
    ParamCount,
    check_role,
    layer_kind,
    layer_kinds,
    register_layer,
)
from perfsim.layers.builder import StepBuilder
from perfsim.registry import import_submodules

_BUILT_IN = ("attention", "mamba2", "linear_attention", "mlp", "moe", "linear")
_INFRASTRUCTURE = {"base", "builder", "types"}

import_submodules(__name__, __path__, first=_BUILT_IN, skip=_INFRASTRUCTURE)

__all__ = [
    "DECODE", "PREFILL", "ROWS", "TOKEN", "Kernel", "KernelRole", "LayerKind", "ParamCount", "StepBuilder",
    "check_role", "layer_kind", "layer_kinds", "register_layer",
]
