"""`perfsim list` reads every registry (no hard-coded choices) and every data command takes
--format table|json|csv."""

import json

import pytest

from perfsim.cli.app import run
from perfsim.cli.catalog import REGISTRIES, Kind, names
from perfsim.decoding import registered_decodings
from perfsim.explore.executors import registered_executors
from perfsim.io.catalog import list_ids
from perfsim.ops import registered_ops
from perfsim.rollout import registered_pipelines
from perfsim.sim import registered_routers, registered_schedulers, registered_workloads
from perfsim.transforms.base import TRANSFORMS

EXPECTED = {
    "decodings": registered_decodings, "workloads": registered_workloads,
    "schedulers": registered_schedulers, "routers": registered_routers, "pipelines": registered_pipelines,
    "transforms": TRANSFORMS.as_dict, "ops": registered_ops, "executors": registered_executors,
}


@pytest.mark.parametrize("kind", list(Kind))
def test_list_every_kind(capsys, kind):
    assert run(["list", kind.value]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == names(kind) and printed
    if kind.value in EXPECTED:
        assert printed == sorted(EXPECTED[kind.value]())
    assert run(["list", kind.value, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == printed


def test_every_registry_kind_is_listed():
    assert set(Kind) == set(REGISTRIES) | {Kind.hardware, Kind.models, Kind.runtimes}
    assert names(Kind.hardware) == list_ids("hwprofiles") and "h100-sxm" in names(Kind.hardware)
    from perfsim.accuracy import registered_accuracies

    assert names(Kind.accuracy) == sorted(registered_accuracies())


def test_a_new_registration_is_listed_without_an_edit(monkeypatch):
    from perfsim.sim import workloads

    monkeypatch.setitem(workloads._WORKLOADS._classes, "bursty", object)
    assert "bursty" in names(Kind.workloads)


def test_list_csv(capsys):
    assert run(["list", "routers", "-f", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["name", "least_outstanding", "round_robin"]


def test_show_formats(capsys):
    assert run(["show", "qwen3-0.6b", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["derived"]["params"] > 0
    assert run(["show", "h100-sxm", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "field,value" and len(lines) > 5


def test_simulate_formats(capsys):
    base = ["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--num-requests", "8"]
    assert run([*base, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["requests_completed"] == 8
    assert run([*base, "-f", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "metric,value" and any(line.startswith("requests_completed,8") for line in lines)


def test_predict_csv_alias_and_format_agree(capsys):
    base = ["predict", "-m", "qwen3-0.6b", "-h", "l4"]
    assert run([*base, "--csv"]) == 0
    first = capsys.readouterr().out
    assert run([*base, "-f", "csv"]) == 0
    assert capsys.readouterr().out == first and first.startswith("model,hardware,runtime,ttft_s")
