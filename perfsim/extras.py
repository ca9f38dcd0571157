"""Optional dependencies: import one, or say in one sentence which extra installs it.

perfsim's core install stays small (numpy, pandas, pydantic, PyYAML, scipy, simpy, typer, rich);
design search, parquet output, Ray sweeps, the dashboard and calibration need packages a user may
not have. Every place that needs one calls `require` (or `check`, where the package only runs in
a subprocess) so a missing package is a PerfsimInputError naming the extra to install, never an
ImportError traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from perfsim.errors import PerfsimInputError

# The extra that installs each optional package (pyproject.toml's [project.optional-dependencies]).
EXTRA_OF = {
    "optuna": "search",
    "matplotlib": "search",
    "pyarrow": "parquet",
    "ray": "distributed",
    "streamlit": "dashboard",
    "plotly": "dashboard",
    "torch": "calibrate",
}


def _import(module: str) -> ModuleType:
    """The import itself (a seam tests replace to simulate a missing package)."""
    return importlib.import_module(module)


def _find(module: str) -> bool:
    """Whether `module` is installed, without importing it (a seam tests replace too)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _message(module: str, extra: str | None, feature: str | None, cause: str | None = None) -> str:
    extra = extra or EXTRA_OF.get(module.split(".")[0], module)
    feature = feature or f"perfsim {extra}"
    why = f" ({cause} is missing)" if cause and cause != module.split(".")[0] else ""
    return f'{feature} needs {module}{why}: pip install "perfsim[{extra}]"'


def require(module: str, *, extra: str | None = None, feature: str | None = None) -> ModuleType:
    """Import `module`, or raise one sentence naming the extra that installs it, e.g.
    `require("optuna", extra="search")` -> 'perfsim search needs optuna: pip install "perfsim[search]"'.
    `feature` names what needs it (default "perfsim EXTRA")."""
    try:
        return _import(module)
    except ImportError as exc:
        raise PerfsimInputError(_message(module, extra, feature, getattr(exc, "name", None))) from None


def check(*modules: str, extra: str | None = None, feature: str | None = None) -> None:
    """Like `require` for packages that run elsewhere (a subprocess): finds them without importing."""
    for module in modules:
        if not _find(module):
            raise PerfsimInputError(_message(module, extra, feature))
