"""Loading runtime files: one-sentence errors naming file and field, `base:` overrides, the CLI's
`list runtimes` / `show`, and the runtimes/ folder shipped in the wheel and sdist."""

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import perfsim
from perfsim.cli.app import app
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_runtime

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

VALID = """\
id: mine
display_name: Mine
version: "1"
source: {url: https://example.org}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("extra, field", [
    ("colour: blue\n", "colour"),
    ("cuda_graphs: {max_capture_size: many}\n", "cuda_graphs.max_capture_size"),
    ("scheduler: {gpu_memory_utilization: 1.5}\n", "scheduler.gpu_memory_utilization"),
    ("scheduler: {kv_cache_free_fraction: 0}\n", "scheduler.kv_cache_free_fraction"),
    ("devices: {volta: {cuda_graphs: {enabled: false}}}\n", "devices"),
    ("scheduler: {policy: lottery}\n", "scheduler.policy"),
    ("devices: {hopper: {scheduler: {policy: lottery}}}\n", "devices.hopper.scheduler.policy"),
    ("host: {per_step: {value_s: -1, source: x}}\n", "host.per_step.value_s"),
    ("host: {per_step: {value_s: 3600, source: x}}\n", "host.per_step.value_s"),
    ("scheduler: {max_num_seqs: 1000000000}\n", "scheduler.max_num_seqs"),
    ("scheduler: {block_size: 0}\n", "scheduler.block_size"),
    ("cuda_graphs: {max_capture_size: 100000000}\n", "cuda_graphs.max_capture_size"),
])
def test_bad_runtime_is_one_sentence_naming_file_and_field(tmp_path, extra, field):
    path = write(tmp_path, "bad.yaml", VALID + extra)
    with pytest.raises(PerfsimInputError) as err:
        load_runtime(path)
    message = str(err.value)
    assert str(path) in message and f"'{field}'" in message
    assert message.count("\n") == 0 and message.endswith(".")


def test_unknown_scheduler_lists_the_registered_ones(tmp_path):
    path = write(tmp_path, "bad.yaml", VALID + "scheduler: {policy: lottery}\n")
    with pytest.raises(PerfsimInputError, match="allowed: guaranteed_no_evict, prefill_first, vllm"):
        load_runtime(path)


def test_malformed_yaml_and_unknown_id(tmp_path):
    with pytest.raises(PerfsimInputError, match="malformed YAML"):
        load_runtime(write(tmp_path, "broken.yaml", "id: [unclosed\n"))
    with pytest.raises(PerfsimInputError, match="unknown runtime 'nope'; known: .*vllm"):
        load_runtime("nope")


def test_base_override_changes_one_field_and_inherits_the_rest(tmp_path):
    path = write(tmp_path, "vllm-eager.yaml", "base: vllm\ncuda_graphs: {enabled: false}\n"
                 "devices: {hopper: {kernels: {attention_decode: fa2}}}\n")
    mine, vllm = load_runtime(path), load_runtime("vllm")
    assert mine.id == "vllm-eager" and not mine.cuda_graphs.enabled
    assert mine.cuda_graphs.max_capture_size == vllm.cuda_graphs.max_capture_size
    assert mine.scheduler == vllm.scheduler and mine.kernels == vllm.kernels
    hopper = mine.on("hopper").kernels
    assert (hopper.attention_prefill, hopper.attention_decode) == ("fa3", "fa2")  # deep merge
    assert mine.on("blackwell").kernels.attention_decode == "flashinfer"


def test_base_chain_of_paths_resolves_next_to_the_file(tmp_path):
    write(tmp_path, "a.yaml", "base: vllm\nscheduler: {max_num_seqs: 64}\n")
    b = write(tmp_path, "b.yaml", "base: a.yaml\nid: bee\nscheduler: {block_size: 32}\n")
    bee = load_runtime(b)
    assert (bee.id, bee.scheduler.max_num_seqs, bee.scheduler.block_size) == ("bee", 64, 32)
    assert bee.calibration_id == "vllm"  # priced with the kernels of the runtime at the chain's end


def test_a_base_runtime_is_priced_with_its_bases_kernel_calibration(tmp_path):
    from perfsim.cost.runtime import resolve_deployment
    from perfsim.io.load import load_hardware

    h100 = load_hardware("h100-sxm")
    mine = write(tmp_path, "mine.yaml", "base: vllm\nhost: {per_step: {value_s: 0.001, source: test}}\n")
    priced, execution = resolve_deployment(mine, h100)
    assert execution.runtime_id == "mine" and execution.calibration_id == "vllm"
    assert priced is resolve_deployment("vllm", h100)[0]  # the same calibrated view
    other = write(tmp_path, "other.yaml", "base: vllm\ncalibration: sglang\n")
    assert resolve_deployment(other, h100)[0] is resolve_deployment("sglang", h100)[0]
    own = write(tmp_path, "own.yaml", "base: vllm\ncalibration: null\n")  # its own kernels: priors here
    assert resolve_deployment(own, h100)[0] is h100


def test_base_errors_name_the_file(tmp_path):
    self_based = write(tmp_path, "self.yaml", "base: self.yaml\n")
    with pytest.raises(PerfsimInputError, match=r"self.yaml: field 'base' names the file itself"):
        load_runtime(self_based)
    write(tmp_path, "x.yaml", "base: y.yaml\n")
    y = write(tmp_path, "y.yaml", "base: x.yaml\n")
    with pytest.raises(PerfsimInputError, match=r"y.yaml: field 'base' leads back to a file already in"):
        load_runtime(y)
    unknown = write(tmp_path, "u.yaml", "base: nope\n")
    with pytest.raises(PerfsimInputError, match=r"u.yaml: field 'base' is invalid: unknown runtime 'nope'"):
        load_runtime(unknown)
    bad_field = write(tmp_path, "v.yaml", "base: vllm\nscheduler: {block_size: 0}\n")
    with pytest.raises(PerfsimInputError, match=r"v.yaml: field 'scheduler.block_size'"):
        load_runtime(bad_field)


def test_public_api_exports_and_profile_passthrough():
    vllm = perfsim.load_runtime("vllm")
    assert isinstance(vllm, perfsim.RuntimeProfile) and perfsim.load_runtime(vllm) is vllm
    assert perfsim.load_runtime("vllm") is vllm  # cached


def test_cli_list_and_show_runtimes(tmp_path):
    listed = runner.invoke(app, ["list", "runtimes"])
    assert listed.exit_code == 0 and "vllm" in listed.output.split() and "llama.cpp" in listed.output.split()
    shown = runner.invoke(app, ["show", "vllm"])
    assert shown.exit_code == 0 and "attention_prefill: fa2" in shown.output and "hopper" in shown.output
    user = write(tmp_path, "eager.yaml", "base: vllm\ncuda_graphs: {enabled: false}\n")
    from_file = runner.invoke(app, ["show", str(user), "--format", "json"])
    assert from_file.exit_code == 0 and '"id": "eager"' in from_file.output
    assert runner.invoke(app, ["show", "h100-sxm"]).exit_code == 0  # hardware ids still win
    unknown = runner.invoke(app, ["show", "nosuch"])
    assert unknown.exit_code != 0 and "perfsim list runtimes" in unknown.output


def test_wheel_and_sdist_ship_runtimes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    build = project["tool"]["hatch"]["build"]["targets"]
    assert build["wheel"]["force-include"]["runtimes"] == "perfsim/_data/runtimes"
    assert "runtimes" in build["sdist"]["include"]
    assert "perfsim list runtimes | grep -q vllm" in (REPO / "Makefile").read_text()
