"""`--runtime` on the prediction commands (one option, perfsim.cli.options.runtime_option)."""

import json

import pytest
import yaml
from typer.testing import CliRunner

import perfsim.io.load
from perfsim.cli.app import app

runner = CliRunner()
needs_loader = pytest.mark.skipif(not hasattr(perfsim.io.load, "load_runtime"),
                                  reason="needs perfsim.io.load.load_runtime")
COMMANDS = ["predict", "simulate", "rollout", "compare", "sweep", "search", "frontier"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_prediction_command_offers_runtime(command):
    shown = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert shown.exit_code == 0 and "--runtime" in shown.output


@needs_loader
def test_predict_under_vllm_fits_nemotron_nano_at_128k_on_a10g_and_names_its_chunk():
    case = ["predict", "-m", "nemotron-nano-9b-v2", "-h", "a10g", "--prompt-len", "130816",
            "--output-len", "256"]
    refused = runner.invoke(app, [*case, "--runtime", "none", "--json"])  # whole-prompt prefill
    assert refused.exit_code == 2
    done = runner.invoke(app, [*case, "--json"])  # vLLM, the default runtime
    assert done.exit_code == 0, done.output
    assert "chunks of 2048 tokens" in done.output


@needs_loader
def test_a_runtime_yaml_path_is_accepted(tmp_path):
    path = tmp_path / "eager.yaml"
    path.write_text(yaml.safe_dump({"id": "eager", "display_name": "eager", "version": "1",
                                    "source": {"url": "https://example.org"},
                                    "cuda_graphs": {"enabled": False}}))
    done = runner.invoke(app, ["predict", "-m", "qwen3-0.6b", "-h", "h100-sxm", "--runtime", str(path),
                               "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout[done.stdout.index("["):])[0]["runtime"] == str(path)


def test_cli_default_runtime_is_the_library_default():
    """options.py spells the default out (so --help needs no pydantic); it must agree."""
    from perfsim.cli import options
    from perfsim.cost import runtime

    assert options.DEFAULT_RUNTIME == runtime.DEFAULT_RUNTIME == "vllm"
