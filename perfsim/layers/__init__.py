"""Layer kinds: one module per kind (its spec, parameters, cache bytes and kernels).

Every module of this package is imported here, so a new kind registers itself by existing (see
README.md). The built-in kinds come first, in the order the spec union has always listed them.
"""

from __future__ import annotations

import importlib
import pkgutil

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

_BUILT_IN = ("attention", "mamba2", "linear_attention", "mlp", "moe", "linear")
_INFRASTRUCTURE = {"base", "builder", "types"}

for _name in (*_BUILT_IN, *sorted(m.name for m in pkgutil.iter_modules(__path__)
                                 if m.name not in _INFRASTRUCTURE and m.name not in _BUILT_IN)):
    importlib.import_module(f"{__name__}.{_name}")

__all__ = [
    "DECODE", "PREFILL", "ROWS", "TOKEN", "Kernel", "KernelRole", "LayerKind", "ParamCount", "StepBuilder",
    "check_role", "layer_kind", "layer_kinds", "register_layer",
]
