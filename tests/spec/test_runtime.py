"""The bundled runtime catalogue: every file validates, states its provenance, and every per-device
override is what `.on(arch)` returns."""

import pytest

from perfsim.io.catalog import list_ids
from perfsim.io.load import load_runtime
from perfsim.spec.runtime import GENERATIONS, RuntimeProfile

BUNDLED = list_ids("runtimes")
#: The runtimes the issue names (issue 17, "What to build" 1).
REQUIRED = {"vllm", "sglang", "tensorrt-llm", "hf-transformers", "llama.cpp", "mlc-llm", "trt-autodeploy"}


def test_the_catalogue_has_every_required_runtime():
    assert REQUIRED <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_runtime_loads_with_provenance(name):
    profile = load_runtime(name)
    assert isinstance(profile, RuntimeProfile)
    assert profile.id == name
    assert profile.version and profile.source.url.startswith("https://") and profile.source.note
    assert set(profile.devices) <= set(GENERATIONS)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_device_override_applies(name):
    profile = load_runtime(name)
    for arch, override in profile.devices.items():
        applied = profile.on(arch)
        assert applied.devices == {}
        for section, fields in override.model_dump(exclude_unset=True).items():
            for field, value in fields.items():
                assert getattr(getattr(applied, section), field) == value, (arch, section, field)
    assert profile.on("no-such-generation") is profile


def test_vllm_picks_fa3_on_hopper_flashinfer_on_blackwell_and_fa2_elsewhere():
    vllm = load_runtime("vllm")
    assert vllm.on("hopper").kernels.attention_prefill == "fa3"
    assert vllm.on("blackwell").kernels.attention_decode == "flashinfer"
    assert {vllm.on(a).kernels.attention_prefill for a in ("ampere", "ada")} == {"fa2"}
    # vLLM's own per-device batch rule (EngineConfig.resolved) applies: the runtime leaves them None
    assert vllm.scheduler.max_num_seqs is None and vllm.scheduler.max_batched_tokens is None
    assert vllm.cuda_graphs.max_capture_size == 512


def test_runtimes_differ_where_their_engines_do():
    trt, hf, cpp = load_runtime("tensorrt-llm"), load_runtime("hf-transformers"), load_runtime("llama.cpp")
    assert trt.scheduler.policy == "guaranteed_no_evict" and trt.scheduler.kv_cache_free_fraction == 0.9
    assert trt.kernels.attention_decode == "trtllm-fmha"
    assert hf.scheduler.policy == "prefill_first" and not hf.cuda_graphs.enabled
    assert cpp.cuda_graphs.enabled and cpp.cuda_graphs.max_capture_size == 1
    assert not cpp.on("x86-64").cuda_graphs.enabled


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_host_costs_name_their_source(name):
    for cost in load_runtime(name).host.model_dump(exclude_none=True).values():
        assert cost["source"]


@pytest.mark.parametrize("name", list_ids("runtimes"))
def test_a_runtime_read_back_from_its_dump_runs_the_same_on_every_generation(name):
    """A copy read back from `model_dump(exclude_unset=True)` (what `base:` and the paper cases
    do) runs the same everywhere: its overrides change only what they set."""
    runtime = load_runtime(name)
    again = RuntimeProfile.model_validate(runtime.model_dump(exclude_unset=True))
    for generation in GENERATIONS:
        assert again.on(generation) == runtime.on(generation), generation
