"""Locate and read aiconfigurator-core kernel tables for one allowed system.

A source is the package's wheel file, an unpacked tree containing `aiconfigurator_core/`, or the
installed package (found through importlib without importing it). Files are located only under
`aiconfigurator_core/systems/data/<system>/` of an allowed system; every other system is refused
before anything is listed or opened, because those tables are reserved as held-out validation.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Systems whose tables may be read for fitting, development and tests (issue 18's rule).
ALLOWED_SYSTEMS = ("h100_sxm", "a100_sxm")
#: aiconfigurator's framework folder for each perfsim runtime id (and NCCL, runtime-free).
FRAMEWORK_DIRS = {"vllm": "vllm", "sglang": "sglang", "tensorrt-llm": "trtllm", "nccl": "nccl"}
PACKAGE = "aiconfigurator_core"
_DATA = f"{PACKAGE}/systems/data"


def check_system(system: str) -> str:
    if system not in ALLOWED_SYSTEMS:
        raise ValueError(f"system {system!r} is not allowed: only {', '.join(ALLOWED_SYSTEMS)} tables "
                         f"may be read (the others are reserved for held-out validation).")
    return system


def _version_key(version: str) -> tuple:
    parts = version.replace("rc", ".").replace("post", ".").split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


@dataclass(frozen=True)
class TableSource:
    """Where the package's data lives: a wheel, an unpacked tree, or the installed package."""

    path: Path

    @classmethod
    def locate(cls, path: str | Path | None = None) -> TableSource:
        """`path` (wheel or folder) or the installed package; one sentence when neither exists."""
        if path is not None:
            p = Path(path)
            if not p.exists():
                raise ValueError(f"table source {p} does not exist; pass the aiconfigurator-core wheel "
                                 f"or a folder that contains {PACKAGE}/.")
            return cls(p)
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError("aiconfigurator-core is not installed; `pip install "
                             "aiconfigurator-core==0.12.0` (the optional tables extra) or pass "
                             "--source <wheel or folder>.")
        return cls(Path(next(iter(spec.submodule_search_locations))).parent)

    def _system_files(self, system: str) -> list[str]:
        """Relative paths (family/framework/version/file) under one allowed system's folder."""
        prefix = f"{_DATA}/{check_system(system)}/"
        if self.path.is_file():
            with zipfile.ZipFile(self.path) as wheel:
                return [n[len(prefix):] for n in wheel.namelist() if n.startswith(prefix)]
        root = self.path / prefix
        if not root.is_dir():
            return []
        return [str(f.relative_to(root)) for f in root.rglob("*") if f.is_file()]

    def versions(self, system: str, family: str, runtime: str, filename: str) -> list[str]:
        """Framework versions that published `filename`, oldest first."""
        framework = FRAMEWORK_DIRS[runtime]
        found = {p.split("/")[2] for p in self._system_files(system)
                 if p.startswith(f"{family}/{framework}/") and p.endswith(f"/{filename}")}
        return sorted(found, key=_version_key)

    def collection_version(self, system: str, runtime: str) -> str | None:
        """The runtime's main collection on `system`: the newest version that published GEMMs
        (later partial re-collections of one family are not preferred over it)."""
        gemm = self.versions(system, "gemm", runtime, "gemm_perf.parquet")
        return gemm[-1] if gemm else None

    def read(self, system: str, family: str, runtime: str, filename: str,
             version: str | None = None) -> tuple[pd.DataFrame, str]:
        """One table and the version read (`version`, else the runtime's collection version if it
        published this table, else the newest); empty if none."""
        import pandas as pd

        available = self.versions(system, family, runtime, filename)
        if not available:
            return pd.DataFrame(), ""
        main = self.collection_version(system, runtime)
        version = version or (main if main in available else available[-1])
        name = f"{_DATA}/{check_system(system)}/{family}/{FRAMEWORK_DIRS[runtime]}/{version}/{filename}"
        if self.path.is_file():
            with zipfile.ZipFile(self.path) as wheel:
                data = wheel.read(name)
            return pd.read_parquet(io.BytesIO(data)), version
        return pd.read_parquet(self.path / name), version
