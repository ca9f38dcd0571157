"""The JSON export: version, inputs, provenance and every tab's data; shell-safe file names."""

from __future__ import annotations

import json

import pytest

import perfsim
from perfsim.dashboard.export import FORMAT, payload, shell_safe
from perfsim.dashboard.setup import Deployment, Setup
from perfsim.decoding import Autoregressive
from perfsim.spec.deployment import Execution

pytestmark = pytest.mark.dashboard


@pytest.mark.parametrize("name, safe", [
    ("qwen3-8b[50%mamba2,wbf16-abf16-kvfp8]", "qwen3-8b_50pct-mamba2_wbf16-abf16-kvfp8"),
    ("llama 3.1 (edited)", "llama_3.1_edited"), ("qwen3-8b", "qwen3-8b")])
def test_model_file_names_are_shell_safe(name, safe):
    assert shell_safe(name) == safe


def test_export_carries_version_inputs_provenance_and_every_tab():
    setup = Setup(model=perfsim.load_model("qwen3-1.7b"), hardware=perfsim.load_hardware("h100-sxm"), batch=2,
                  prompt_len=512, output_len=64, decoding=Autoregressive(),
                  deploy=Deployment(runtime=perfsim.load_runtime("vllm"),
                                    execution=Execution(tensor_parallel=1)))
    result = perfsim.generate("qwen3-1.7b", "h100-sxm", 2, 512, 64, runtime="vllm")
    state = {"srv_rate": 2.0, "srv_requests": 20, "fr_designs": ["qwen3-8b"], "fr_devices": [],
             "sweep_batch": (1, 4), "sweep_context": (512, 1024), "cmp_batches": (1, 2), "rl_steps": 1,
             "rl_prompts": 2, "rl_samples": 2, "rl_output": 64, "rl_max_output": 128}
    data = json.loads(payload(setup, result, {"batch": 2, **state}, state))
    assert data["format"] == FORMAT and data["perfsim_version"] == perfsim.__version__
    assert data["inputs"]["batch"] == 2 and data["results"]["ttft_s"] == result.ttft_s
    assert data["provenance"]["device"]["efficiencies"] == "tables"  # H100 under vLLM: its measured kernels
    assert data["provenance"]["device"]["runtime"] == "vllm"
    assert data["provenance"]["runtime"]["runtime"] == "vllm"
    assert set(data["provenance"]["runtime"]["host_costs"]) <= {"per_step", "per_seq_per_step",
                                                                "per_kernel_eager", "per_kernel_ungraphed",
                                                                "per_draft_step",
                                                                "per_drafted_token", "per_request"}
    tabs = data["tabs"]
    assert {"breakdown", "sweep", "frontier", "serving", "decoding", "rl_rollouts"} <= set(tabs)
    assert len(tabs["breakdown"]["kernels"]) == len(result.prefill.breakdown) + len(result.decode.breakdown)
    assert len(tabs["sweep"]["grid"]) == 3 * 2
    assert {r["design"] for r in tabs["frontier"]["rows"]} == {"qwen3-1.7b", "qwen3-8b"}
    assert all(r["accuracy_kind"] in ("measured", "estimated") for r in tabs["frontier"]["rows"])
    assert len(tabs["serving"]["timeline"]["time_s"]) > 0 and "ttft_p50_s" in tabs["serving"]["summary"]


@pytest.mark.parametrize(("hw", "runtime", "badge"), [
    ("h100-sxm", "vllm", "measured kernels"), ("h100-sxm", None, "priors"), ("l4", "vllm", "priors"),
])
def test_device_badge_names_what_prices_the_kernels(hw, runtime, badge):
    """Under a runtime whose measured kernel tables calibrated the profile, the badge says so (the
    calibration HardwareProfile.for_runtime applies); elsewhere the documented priors."""
    from perfsim.dashboard.provenance import device_badge

    profile = perfsim.load_hardware(hw)
    assert f"[{badge}]" in device_badge(profile, runtime)
    if runtime and runtime in profile.calibration.runtimes:
        assert profile.for_runtime(runtime) is not profile
