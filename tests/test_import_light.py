"""`import perfsim` and `perfsim --help` stay light: heavy libraries load only when a function that
needs them runs (perfsim/__init__.py resolves its public names lazily). Checked in a fresh
interpreter through sys.modules, never by timing (benchmarks/bench_import.py prints the times)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "scipy", "pyarrow", "rich", "torch", "streamlit", "plotly", "ray", "optuna", "simpy")


def _fresh(code: str) -> dict:
    """Run `code` in a new interpreter; it prints one JSON object as its last line."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _loaded(names: tuple[str, ...]) -> str:
    return f"[m for m in {list(names)!r} if m in sys.modules]"


def test_import_perfsim_loads_no_heavy_library():
    loaded = _fresh(f"import json, sys\nimport perfsim\nprint(json.dumps({_loaded(HEAVY)}))")
    assert loaded == []


def test_every_public_name_resolves():
    result = _fresh(
        "import json, types\nimport perfsim\n"
        "kinds = {n: type(getattr(perfsim, n)).__name__ for n in perfsim.__all__}\n"
        "from perfsim import *  # noqa: F403\n"
        "missing = [n for n in perfsim.__all__ if n not in globals()]\n"
        "print(json.dumps({'kinds': kinds, 'missing': missing, 'version': perfsim.__version__,"
        " 'sim': perfsim.sim.simulate_serving is perfsim.simulate_serving,"
        " 'dir': sorted(set(perfsim.__all__) - set(dir(perfsim)))}))")
    assert result["missing"] == [] and result["dir"] == []
    assert result["version"] and result["sim"]
    modules = {n for n, kind in result["kinds"].items() if kind == "module"}
    assert modules == {"accuracy", "ops", "transforms"}  # the rest are functions and classes


def test_lazy_names_are_the_defining_objects():
    import perfsim
    from perfsim.cost.request import generate
    from perfsim.explore.compare import compare

    assert perfsim.generate is generate and perfsim.compare is compare
    assert perfsim.spec.model.ModelSpec is perfsim.ModelSpec


def test_help_loads_neither_pandas_nor_scipy():
    code = (
        "import contextlib, io, json, sys\nfrom perfsim.cli import main\nsys.argv = ['perfsim', '--help']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n    main()\n"
        f"print(json.dumps({{'loaded': {_loaded(('pandas', 'scipy', 'pyarrow', 'simpy', 'torch'))},"
        " 'help': out.getvalue()}))")
    result = _fresh(code)
    assert result["loaded"] == []
    assert "predict" in result["help"] and "simulate" in result["help"]
