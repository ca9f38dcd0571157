"""A missing optional package is one sentence naming the extra to install (perfsim.extras), at
the library seam and at every CLI command that needs one."""

import types

import pytest

import perfsim.extras as extras
from perfsim.cli.app import run
from perfsim.errors import PerfsimInputError


@pytest.fixture
def missing(monkeypatch):
    """Make the named top-level packages look uninstalled to perfsim.extras."""
    gone: set[str] = set()
    real_import, real_find = extras._import, extras._find

    def fake_import(module):
        if module.split(".")[0] in gone:
            raise ImportError(f"No module named {module!r}", name=module)
        return real_import(module)

    monkeypatch.setattr(extras, "_import", fake_import)
    monkeypatch.setattr(extras, "_find", lambda module: module not in gone and real_find(module))
    return gone


def test_require_returns_the_module_or_names_the_extra(missing):
    assert extras.require("json", extra="core") is __import__("json")
    missing.add("optuna")
    with pytest.raises(PerfsimInputError) as info:
        extras.require("optuna", extra="search")
    assert str(info.value) == 'perfsim search needs optuna: pip install "perfsim[search]"'
    missing.add("torch")
    with pytest.raises(PerfsimInputError, match=r'calibration needs torch: pip install "perfsim\[calibrate'):
        extras.require("torch", feature="calibration")


def test_a_broken_dependency_names_what_is_missing(monkeypatch):
    def broken(module):
        raise ImportError("No module named 'sympy'", name="sympy")

    monkeypatch.setattr(extras, "_import", broken)
    with pytest.raises(PerfsimInputError, match=r"needs torch \(sympy is missing\)"):
        extras.require("torch", extra="calibrate")


def test_check_finds_without_importing(missing):
    extras.check("json", extra="core")
    missing.add("streamlit")
    wanted = r'the dashboard needs streamlit: pip install "perfsim\[dashboard\]"'
    with pytest.raises(PerfsimInputError, match=wanted):
        extras.check("streamlit", "plotly", extra="dashboard", feature="the dashboard")


def one_line(capsys, argv):
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("module, argv, needle", [
    ("optuna", ["search", "space.yaml"], 'perfsim search needs optuna: pip install "perfsim[search]"'),
    ("pyarrow", ["sweep", "{space}", "-o", "{tmp}/rows.parquet", "-q"], 'pip install "perfsim[parquet]"'),
    ("pyarrow", ["frontier", "-m", "qwen3-0.6b", "-h", "h100-sxm", "-o", "{tmp}/f.parquet"],
     "writing .parquet files (-o) needs pyarrow"),
    ("ray", ["sweep", "{space}", "--executor", "ray"],
     '--executor ray needs ray: pip install "perfsim[distributed]"'),
    ("torch", ["calibrate", "--plan"], 'calibration needs torch: pip install "perfsim[calibrate]"'),
    ("torch", ["validate"], "calibration needs torch"),
    ("streamlit", ["dashboard", "--no-browser"], 'pip install "perfsim[dashboard]"'),
])
def test_cli_names_the_extra(capsys, missing, write_yaml, tmp_path, module, argv, needle):
    space = write_yaml({"model": "qwen3-0.6b", "hardware": ["h100-sxm"],
                        "parameters": {"workload.batch": [1]}}, "space.yaml")
    missing.add(module)
    err = one_line(capsys, [a.replace("{space}", str(space)).replace("{tmp}", str(tmp_path)) for a in argv])
    assert needle in err


def test_unreachable_ray_cluster_is_one_sentence(capsys, monkeypatch, write_yaml):
    import perfsim.explore.sweep as sweep_module

    space = write_yaml({"model": "qwen3-0.6b", "parameters": {"workload.batch": [1]}}, "space.yaml")
    monkeypatch.setattr(extras, "_import", lambda module: types.ModuleType(module))

    def unreachable(*args, **kwargs):
        raise ConnectionError("Could not find any running Ray instance.\nPlease specify one.")

    monkeypatch.setattr(sweep_module, "sweep", unreachable)
    err = one_line(capsys, ["sweep", str(space), "--executor", "ray", "--address", "auto", "-q"])
    assert "could not reach a Ray cluster at auto (Could not find any running Ray instance.)" in err
