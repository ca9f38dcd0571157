"""Shared fixtures, golden-data lookup and the optional-extras skip.

Optional extras: a test that needs one carries its marker (`dashboard`, `calibrate`, `optuna`,
`ray`, `parquet`, `browser`; registered in pyproject.toml). When the extra is not installed the
test is skipped with "needs the X extra", so a core-only install (`pip install -e .` plus pytest
and hypothesis) runs the core tests and skips the rest. A test module that imports an extra at
module level is skipped as a whole with the same reason.
"""

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import settings

import perfsim

# Property tests explore new examples on a developer's machine, but CI (CI=true) replays a fixed,
# derandomised set so a run never fails by chance; no deadline, since a loaded 2-core machine
# makes per-example timing meaningless.
settings.register_profile("perfsim", deadline=None, derandomize=bool(os.environ.get("CI")))
settings.load_profile("perfsim")

REPO = Path(__file__).resolve().parents[1]
#: Golden tables only the tests use (one copy, here).
GOLDEN_DIR = REPO / "tests" / "golden"
#: Published datasets the benchmarks also read (one copy, there; tests read them in place).
PUBLISHED_DIR = REPO / "benchmarks" / "data"

#: marker -> (extra in pyproject.toml, top-level modules that extra provides)
EXTRAS = {
    "dashboard": ("dashboard", ("streamlit", "plotly")),
    "calibrate": ("calibrate", ("torch",)),
    "optuna": ("search", ("optuna",)),
    "ray": ("distributed", ("ray",)),
    "parquet": ("parquet", ("pyarrow",)),
    "browser": ("dev", ("playwright",)),
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _reason(extra: str, missing: str) -> str:
    return f"needs the {extra} extra ({missing} is not installed: pip install 'perfsim[{extra}]')"


def _missing(marker: str) -> str | None:
    """The first module of the marker's extra that is not installed, or None."""
    return next((m for m in EXTRAS[marker][1] if not _installed(m)), None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker in EXTRAS:
            if item.get_closest_marker(marker) is not None and (missing := _missing(marker)):
                item.add_marker(pytest.mark.skip(reason=_reason(EXTRAS[marker][0], missing)))
                break


class _ModuleNeedingExtras(pytest.Module):
    """A test module whose import fails only because an optional extra is missing is skipped."""

    def collect(self):
        try:
            return super().collect()
        except self.CollectError as exc:
            cause = exc.__cause__
            name = (getattr(cause, "name", None) or "").partition(".")[0]
            for extra, modules in EXTRAS.values():
                if isinstance(cause, ModuleNotFoundError) and name in modules:
                    raise pytest.skip.Exception(_reason(extra, name), allow_module_level=True) from None
            raise


def pytest_pycollect_makemodule(module_path, parent):
    return _ModuleNeedingExtras.from_parent(parent, path=module_path)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Report a module skipped for a missing extra at the module, not at this file."""
    report = yield
    if report.skipped and isinstance(collector, _ModuleNeedingExtras) and isinstance(report.longrepr, tuple):
        report.longrepr = (str(collector.path), None, report.longrepr[2])
    return report


@pytest.fixture(scope="session")
def data_file():
    """`data_file("name.csv")`: the path of a golden table, from tests/golden/ (test-only tables)
    or benchmarks/data/ (published datasets the benchmarks also use)."""

    def _find(name: str) -> Path:
        for folder in (GOLDEN_DIR, PUBLISHED_DIR):
            if (folder / name).is_file():
                return folder / name
        raise FileNotFoundError(f"{name} is in neither {GOLDEN_DIR} nor {PUBLISHED_DIR}")

    return _find


@pytest.fixture(scope="session")
def h100():
    return perfsim.load_hardware("h100-sxm")


@pytest.fixture(scope="session")
def llama8b():
    return perfsim.load_model("llama-3.1-8b")


@pytest.fixture
def write_yaml(tmp_path):
    """Write a dict (or raw text) as a YAML file and return its path."""
    import yaml

    def _write(data, name="case.yaml"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return _write
