"""Every usage error is one sentence on stderr and exit status 2, never a traceback; --version."""

import subprocess
import sys

import pytest

import perfsim
from perfsim.cli.app import run

PREDICT = ["predict", "-m", "qwen3-8b", "-h", "h100-sxm"]


def one_sentence(capsys, argv, status=2):
    code = run(argv)
    out, err = capsys.readouterr()
    assert code == status, (out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and out == ""
    return err


@pytest.mark.parametrize("argv, needle", [
    ([*PREDICT, "--batch", "abc"], "'--batch'"),
    ([*PREDICT, "--bogus", "1"], "No such option: --bogus"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["predict", "-m", "qwen3-8b"], "Missing option '--hardware'"),
    (["list", "gpus"], "'gpus' is not one of"),
    (["list"], "Missing argument"),
    (["compare", "qwen3-8b"], "Missing argument"),
    ([*PREDICT, "--format", "xml"], "'xml'"),
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--num-requests", "1.5"], "'--num-requests'"),
])
def test_usage_errors_are_one_sentence_with_status_2(capsys, argv, needle):
    err = one_sentence(capsys, argv)
    assert needle in err and "--help" in err


@pytest.mark.parametrize("argv, needle", [
    ([*PREDICT, "--batch", "0"], "--batch must be an integer from 1 to"),
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--workload", "nope"], "--workload 'nope' is unknown"),
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--workload", "trace"], "--workload trace needs --trace"),
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--workload", "batch"], "use the Python API"),
    (["sweep", "nope.yaml", "--executor", "slurm"], "--executor 'slurm' is unknown; allowed: local"),
    (["sweep", "nope.yaml", "--address", "auto"], "--address joins a Ray cluster"),
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--workload", "poisson", "--rate", "5",
      "--warmup-requests", "3"], "--warmup-requests applies only to the closed_loop benchmark clients"),
])
def test_input_errors_are_one_sentence_with_status_2(capsys, argv, needle):
    assert needle in one_sentence(capsys, argv)


@pytest.mark.parametrize("args", [("predict", "--batch", "abc"), ("list", "gpus"), ("frobnicate",)])
def test_entry_point_in_a_fresh_interpreter(args):
    out = subprocess.run([sys.executable, "-m", "perfsim", *args], capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"perfsim {perfsim.__version__}"


def test_bare_command_prints_help(capsys):
    assert run([]) == 0
    assert "predict" in capsys.readouterr().out


def test_help_exits_0(capsys):
    assert run(["predict", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--decoding" in out and "--set" in out and "--format" in out


@pytest.mark.parametrize("argv, option", [
    (["simulate", "-m", "qwen3-0.6b", "-h", "l4", "--chrome-trace", "{missing}/t.json"], "--chrome-trace"),
    (["rollout", "-m", "qwen3-0.6b", "-h", "h100-sxm", "--timeline", "{missing}/t.csv"], "--timeline"),
    (["rollout", "-m", "qwen3-0.6b", "-h", "h100-sxm", "--chrome-trace", "{missing}/t.json"],
     "--chrome-trace"),
    (["import-hf", "config.json", "-o", "{missing}/m.yaml"], "--out"),
    (["sweep", "space.yaml", "-o", "{missing}/rows.csv"], "--out"),
    (["search", "space.yaml", "-o", "{missing}/rows.parquet"], "--out"),
    (["frontier", "-m", "qwen3-0.6b", "-h", "h100-sxm", "-o", "{missing}/f.csv"], "--out"),
    (["validate", "--out", "{missing}/v.csv"], "--out"),
])
def test_output_folder_is_checked_before_the_run(capsys, tmp_path, monkeypatch, argv, option):
    import perfsim.explore.frontier as frontier
    import perfsim.rollout as rollout
    import perfsim.sim as sim

    def never(*args, **kwargs):
        raise AssertionError("the run started")

    for module, name in ((sim, "simulate_serving"), (rollout, "simulate_rollouts"),
                         (frontier, "evaluate_frontier")):
        monkeypatch.setattr(module, name, never)
    missing = tmp_path / "no-such-folder"
    err = one_sentence(capsys, [a.replace("{missing}", str(missing)) for a in argv])
    assert option in err and "does not exist" in err


def test_output_suffix_is_checked_before_the_run(capsys):
    err = one_sentence(capsys, ["frontier", "-m", "qwen3-0.6b", "-h", "h100-sxm", "-o", "f.xlsx"])
    assert "must end in .csv or .parquet" in err
