"""Every bundled runtime runs on every bundled hardware profile whose generation it supports, and a
generation it does not support is one sentence."""

import math

import pytest

import perfsim
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import list_ids
from perfsim.spec.deployment import Execution

RUNTIMES = list_ids("runtimes")
PROFILES = list_ids("hwprofiles")
PAIRS = [(r, h) for r in RUNTIMES for h in PROFILES
         if perfsim.load_runtime(r).runs_on(perfsim.load_hardware(h).arch)]


def test_every_runtime_names_the_generations_it_supports_or_none():
    for r in RUNTIMES:
        archs = perfsim.load_runtime(r).archs
        assert archs is None or archs, f"runtime '{r}': archs must be null or non-empty"


@pytest.mark.parametrize(("runtime_id", "hw_id"), PAIRS)
def test_a_supported_pair_resolves_and_prices_a_prefill(runtime_id, hw_id):
    rt, hw = perfsim.load_runtime(runtime_id), perfsim.load_hardware(hw_id)
    execution = Execution.of(rt, hw)
    attention = hw.efficiency_in_use.attention
    for impl in (execution.attention_prefill_impl, execution.attention_decode_impl):
        assert impl in attention.available
    latency = perfsim.prefill("qwen3-0.6b", hw_id, 1, 512, runtime=rt).latency_s
    assert math.isfinite(latency) and latency > 0


#: Runtimes built for edge SoCs only: TensorRT Edge-LLM targets Jetson Orin (ampere) and Thor /
#: DRIVE / DGX Spark (blackwell), not data-centre Hopper or Ada GPUs.
EDGE_ONLY = {"tensorrt-edge-llm": {"ampere", "blackwell"}}


def test_every_gpu_runtime_pair_is_covered():
    """The GPU runtimes run on all bundled GPUs; only the CPU profile is left out for some."""
    for r in RUNTIMES:
        for h in PROFILES:
            arch = perfsim.load_hardware(h).arch
            if r in EDGE_ONLY and arch not in EDGE_ONLY[r]:
                assert (r, h) not in PAIRS
            elif arch != "x86-64":
                assert (r, h) in PAIRS, f"runtime '{r}' should run on GPU profile '{h}'"


def test_an_unsupported_generation_is_one_sentence():
    rt, cpu = perfsim.load_runtime("tensorrt-llm"), perfsim.load_hardware("cpu-generic")
    assert not rt.runs_on(cpu.arch)
    with pytest.raises(PerfsimInputError) as err:
        Execution.of(rt, cpu)
    message = str(err.value)
    assert message == ("runtime 'tensorrt-llm' does not run on cpu-generic (arch x86-64); it supports "
                       "ampere, ada, hopper, blackwell.")
    assert message.count(". ") == 0 and "\n" not in message


def test_the_generation_check_comes_before_any_kernel_lookup():
    """A runtime whose kernels the profile lacks still gets the generation sentence first."""
    rt = perfsim.load_runtime("sglang")  # flashinfer: no entry on cpu-generic
    with pytest.raises(PerfsimInputError, match="does not run on cpu-generic"):
        Execution.of(rt, perfsim.load_hardware("cpu-generic"))


def test_archs_none_means_every_generation():
    rt = perfsim.load_runtime("hf-transformers")
    assert rt.archs is None
    assert all(rt.runs_on(perfsim.load_hardware(h).arch) for h in PROFILES)
