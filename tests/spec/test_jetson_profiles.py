"""Jetson power-mode profiles, Jetson AGX Thor and the alias ids of the pre-split profiles (issue 19)."""

import pytest

import perfsim
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import find, list_ids

NANO = ["jetson-orin-nano-8gb-7w", "jetson-orin-nano-8gb-15w", "jetson-orin-nano-8gb-25w",
        "jetson-orin-nano-8gb-maxn-super"]
AGX = ["jetson-agx-orin-64gb-15w", "jetson-agx-orin-64gb-30w", "jetson-agx-orin-64gb-50w",
       "jetson-agx-orin-64gb-maxn"]
MODES = NANO + AGX
ALIASES = {"jetson-orin-nano-8gb": "jetson-orin-nano-8gb-maxn-super",
           "jetson-agx-orin-64gb": "jetson-agx-orin-64gb-maxn"}
#: id -> (GPU max MHz, SMs online, DRAM GB/s) from the nvpmodel confs (benchmarks/data/jetson_power_modes.md).
EXPECTED = {
    "jetson-orin-nano-8gb-7w": (408, 4, 68.3), "jetson-orin-nano-8gb-15w": (612, 8, 68.3),
    "jetson-orin-nano-8gb-25w": (918, 8, 102.4), "jetson-orin-nano-8gb-maxn-super": (1020, 8, 102.4),
    "jetson-agx-orin-64gb-15w": (408, 6, 136.5), "jetson-agx-orin-64gb-30w": (612, 8, 204.8),
    "jetson-agx-orin-64gb-50w": (816, 16, 204.8), "jetson-agx-orin-64gb-maxn": (1300, 16, 204.8),
}
MODEL, CONTEXT = "qwen3-0.6b", 1024


def decode_ms(hw):
    return perfsim.decode_step(MODEL, hw, 1, CONTEXT).latency_s * 1e3


def prefill_ms(hw):
    return perfsim.prefill(MODEL, hw, 1, 4096).latency_s * 1e3


@pytest.mark.parametrize("hw_id", [*MODES, "jetson-agx-thor"])
def test_each_mode_loads_with_its_sources(hw_id):
    hw = perfsim.load_hardware(hw_id)
    assert hw.id == hw_id and hw.form_factor == "soc" and hw.memory.unified_with_host
    assert not hw.calibration.calibrated
    cites = [c for c in hw.provenance.values() if not c.startswith("derived:")]
    cited = {k.strip() for cite in cites for k in cite.split(",")}
    assert cited <= set(hw.sources)
    if hw_id != "jetson-agx-thor":
        assert "NV-CONF" in hw.sources and "nvpmodel" in hw.sources["NV-CONF"]
        assert hw.provenance["compute.clock_tensor_hz"].startswith(("NV-CONF", "S30, NV-CONF", "S29"))
        assert hw.power_mode == hw_id.rsplit("-8gb-", 1)[-1].rsplit("-64gb-", 1)[-1]


@pytest.mark.parametrize("hw_id", MODES)
def test_mode_clock_sms_bandwidth_and_scaled_peaks(hw_id):
    hw = perfsim.load_hardware(hw_id)
    mhz, sms, gbps = EXPECTED[hw_id]
    assert hw.compute.clock_tensor_hz == pytest.approx(mhz * 1e6)
    assert hw.compute.sm_count == sms
    assert hw.memory.peak_bw_bytes_per_s == pytest.approx(gbps * 1e9, rel=1e-3)
    # GA10B dense rates: 2048 bf16 FLOP and 4096 int8 OP per clock per SM
    assert hw.peak_flops("bf16") == pytest.approx(sms * 2048 * mhz * 1e6, rel=5e-3)
    assert hw.peak_flops("int8") == pytest.approx(sms * 4096 * mhz * 1e6, rel=5e-3)


def test_efficiency_priors_are_shared_across_modes():
    for family in (NANO, AGX):
        first = perfsim.load_hardware(family[0]).efficiency
        assert all(perfsim.load_hardware(h).efficiency == first for h in family[1:])


@pytest.mark.parametrize(("alias", "target"), ALIASES.items())
def test_old_ids_are_aliases_of_their_mode(alias, target):
    old, mode = perfsim.load_hardware(alias), perfsim.load_hardware(target)
    assert alias in list_ids("hwprofiles") and old.id == alias
    assert old.power_mode == mode.power_mode
    assert old.model_dump(exclude={"id"}) == mode.model_dump(exclude={"id"})
    assert find("hwprofiles", alias) == find("hwprofiles", target)  # raw readers (calibrate) see the target
    assert decode_ms(alias) == decode_ms(target)


def test_unchanged_numbers_of_the_old_ids():
    nano, agx = perfsim.load_hardware("jetson-orin-nano-8gb"), perfsim.load_hardware("jetson-agx-orin-64gb")
    def facts(hw):
        return hw.compute.clock_tensor_hz, hw.peak_flops("bf16"), hw.memory.peak_bw_bytes_per_s

    assert facts(nano) == (1.02e9, 16.7e12, 102.4e9)
    assert facts(agx) == (1.3e9, 42.6e12, 204.8e9)


def test_alias_file_must_hold_only_alias_of(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("alias_of: jetson-agx-orin-64gb-maxn\nid: other\n")
    with pytest.raises(PerfsimInputError, match="alias file holds only"):
        perfsim.load_hardware(bad)
    loop = tmp_path / "loop.yaml"
    loop.write_text(f"alias_of: {loop}\n")
    with pytest.raises(PerfsimInputError, match="alias cycle"):
        perfsim.load_hardware(loop)


def test_lower_emc_bandwidth_is_slower_for_batch1_decode():
    # across modes: less DRAM bandwidth, slower decode
    assert decode_ms("jetson-orin-nano-8gb-15w") > decode_ms("jetson-orin-nano-8gb-25w")
    assert decode_ms("jetson-agx-orin-64gb-15w") > decode_ms("jetson-agx-orin-64gb-30w")
    # isolated: the same mode with only its EMC-capped bandwidth raised gets faster
    for capped, uncapped in (("jetson-orin-nano-8gb-15w", "jetson-orin-nano-8gb-25w"),
                             ("jetson-agx-orin-64gb-15w", "jetson-agx-orin-64gb-maxn")):
        hw = perfsim.load_hardware(capped)
        faster_bw = perfsim.load_hardware(uncapped).memory.peak_bw_bytes_per_s
        memory = hw.memory.model_copy(update={"peak_bw_bytes_per_s": faster_bw})
        raised = hw.model_copy(update={"memory": memory})
        assert decode_ms(capped) > decode_ms(raised)


def test_lower_gpu_clock_is_slower_for_compute_bound_prefill():
    # same EMC bandwidth, lower GPU clock (and SMs): slower 4096-token prefill
    assert prefill_ms("jetson-orin-nano-8gb-25w") > prefill_ms("jetson-orin-nano-8gb-maxn-super")
    assert prefill_ms("jetson-agx-orin-64gb-30w") > prefill_ms("jetson-agx-orin-64gb-50w") > prefill_ms(
        "jetson-agx-orin-64gb-maxn")


def test_thor_datasheet_facts():
    thor = perfsim.load_hardware("jetson-agx-thor")
    assert thor.arch == "blackwell" and thor.compute.sm_count == 20
    assert thor.peak_flops("fp4") == pytest.approx(2070e12 / 2)
    assert thor.peak_flops("fp8") == pytest.approx(1035e12 / 2)
    assert thor.peak_flops("bf16") == pytest.approx(258.75e12)
    assert thor.memory.peak_bw_bytes_per_s == pytest.approx(273e9)
    assert thor.memory.capacity_bytes == 128 * 2**30
    assert decode_ms("jetson-agx-thor") < decode_ms("jetson-agx-orin-64gb")
