"""A hardware profile's calibration: efficiencies fitted on top of the priors, for the device as a
whole (torch microbenchmarks) and per serving runtime (measured-kernel tables), as dotted paths
into `efficiency`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perfsim.spec.base import _Strict


class RuntimeCalibration(_Strict):
    """Efficiencies fitted to one runtime's measured kernels (its own attention, GEMM and
    collective implementations), with where they came from and how well they fit."""

    source: str = Field(min_length=1)
    fitted: dict[str, float] = {}
    fit_quality: dict[str, dict[str, float]] = {}


class Calibration(_Strict):
    calibrated: bool = False
    date: str | None = None
    environment: dict[str, str] = {}
    microbenchmarks: list[str] = []
    #: Dotted paths into `efficiency` (e.g. "gemm.e_max.bf16") and their fitted values.
    fitted: dict[str, float | list[float]] = {}
    fit_quality: dict[str, dict[str, float]] = {}
    #: Runtime id -> the calibration fitted to that runtime's kernels on this device; applied on
    #: top of `fitted` by `HardwareProfile.for_runtime`.
    runtimes: dict[str, RuntimeCalibration] = {}


def _mutable(data: Any) -> Any:
    """Dicts and lists all the way down (tuples become lists) so fitted values can be set."""
    if isinstance(data, dict):
        return {k: _mutable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_mutable(v) for v in data]
    return data


def efficiency_node(data: dict, path: str) -> dict | list:
    """The node a dotted path names; integer parts index lists ("gemm.tiles.2.2")."""
    node: object = data
    for part in path.split(".") if path else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ValueError(f"calibration path '{path}' does not name an efficiency field")
    return node  # type: ignore[return-value]
