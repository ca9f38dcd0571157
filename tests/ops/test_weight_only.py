"""Weight-only quantised matmuls (issue 19 item 1): exact bits per weight of every storage format,
small-M GEMV / 16-row kernels that stream the quantised bytes, and the decode speed-up they give."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.ops import Gemm, kernel_time
from perfsim.ops.weight_only import SKINNY_MAX_M
from perfsim.transforms import WeightDType
from perfsim.units import DTYPE_BYTES, WEIGHT_FORMAT_BITS

#: Bits per weight, scales and zero points included (sources in perfsim/units.py).
EXPECTED_BITS = {
    "int4_awq": 4.15625,  # 4 + fp16 scale / 128 + 4-bit zero / 128
    "int4_gptq": 4.125,  # 4 + fp16 scale / 128 (symmetric)
    "nvfp4": 4.5,  # 4 + e4m3 scale / 16
    "mxfp4": 4.25,  # 4 + e8m0 scale / 32
    "q4_k": 4.5,  # 144 B / 256
    "q5_k": 5.5,  # 176 B / 256
    "q6_k": 6.5625,  # 210 B / 256
    "q8_0": 8.5,  # 34 B / 32
    "q4_k_m": 4.85,
    "q5_k_m": 5.69,
}
DEVICES = ("jetson-agx-orin-64gb", "jetson-orin-nano-8gb", "h100-sxm")


def test_bits_per_weight_of_every_format():
    assert WEIGHT_FORMAT_BITS == pytest.approx(EXPECTED_BITS, abs=1e-12)
    for name, bits in EXPECTED_BITS.items():
        assert DTYPE_BYTES[name] == pytest.approx(bits / 8)


def test_existing_dtype_sizes_unchanged():
    assert {d: DTYPE_BYTES[d] for d in ("fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4")} == {
        "fp32": 4.0,
        "bf16": 2.0,
        "fp16": 2.0,
        "fp8": 1.0,
        "int8": 1.0,
        "fp4": 0.5,
        "int4": 0.5,
    }


@pytest.fixture(scope="module")
def llama():
    return perfsim.load_model("llama-3.1-8b")


def _decode(model, hw, dtype):
    step = perfsim.decode_step(
        perfsim.apply_transforms(model, [WeightDType(dtype)]), hw, 1, 1024, check_memory=False
    )
    gemm = float(step.breakdown.loc[step.breakdown["family"] == "gemm", "time_s"].sum())
    return step.latency_s, gemm


@pytest.mark.parametrize("hw", DEVICES)
def test_batch1_decode_speeds_up_by_the_byte_ratio(llama, hw):
    t = {d: _decode(llama, hw, d) for d in ("bf16", "int8", "int4_awq", "int4")}
    assert t["bf16"][0] > t["int8"][0] > t["int4_awq"][0] >= t["int4"][0]
    for dtype in ("int8", "int4_awq", "int4"):
        ratio = DTYPE_BYTES[dtype] / DTYPE_BYTES["bf16"]
        # matmul time follows the weight bytes, less the dequantisation and fixed costs
        assert ratio <= t[dtype][1] / t["bf16"][1] <= 1.5 * ratio
        if hw.startswith("jetson"):
            # on the edge the whole token does too; on H100 the ~290 per-kernel floors (~0.7 ms of
            # norms, rope, attention launches) that weights do not touch are a third of an int4 token
            assert ratio <= t[dtype][0] / t["bf16"][0] <= 1.5 * ratio


@pytest.mark.parametrize("hw", DEVICES)
def test_weight_only_formats_cost_their_bytes_at_batch_one(hw):
    """Memory-bound GEMV: a wider format is never faster; a 4x narrower weight is >= 3x faster."""
    hw = perfsim.load_hardware(hw)
    t = {d: kernel_time(hw, Gemm(1, 14336, 4096, "bf16", d)) for d in ["bf16", *EXPECTED_BITS, "int8", "fp8"]}
    order = sorted(EXPECTED_BITS, key=EXPECTED_BITS.get)
    assert all(t[a] <= t[b] * (1 + 1e-12) for a, b in zip(order, order[1:], strict=False))
    assert t["bf16"] / t["int4_gptq"] > 3.0
    assert Gemm(1, 14336, 4096, "bf16", "int4_awq").bound(hw) == "memory"


def test_equal_dtypes_take_no_weight_only_path():
    assert not Gemm(1, 4096, 4096, "bf16")._weight_only()
    assert not Gemm(1, 4096, 4096, "fp8", "fp8")._weight_only()
    assert Gemm(1, 4096, 4096, "bf16", "int4_awq")._weight_only()


gemm_dtypes = st.sampled_from(
    [
        ("bf16", None),
        ("bf16", "int4_awq"),
        ("bf16", "int8"),
        ("bf16", "fp8"),
        ("bf16", "q4_k_m"),
        ("bf16", "nvfp4"),
        ("fp8", "fp8"),
        ("bf16", "int4"),
    ]
)
nk = st.sampled_from([(4096, 4096), (14336, 4096), (4096, 14336), (128256, 4096), (512, 64)])


@settings(max_examples=150, deadline=None)
@given(
    m=st.integers(1, 4096), grow=st.integers(1, 512), shape=nk, dt=gemm_dtypes, hw=st.sampled_from(DEVICES)
)
def test_gemm_non_decreasing_in_m(m, grow, shape, dt, hw):
    assume(dt[0] != "fp8" or hw == "h100-sxm")  # Ampere Jetsons have no fp8 tensor peak
    hw = perfsim.load_hardware(hw)
    n, k = shape
    small, big = Gemm(m, n, k, *dt), Gemm(m + grow, n, k, *dt)
    assert kernel_time(hw, big) >= kernel_time(hw, small) * (1 - 1e-12)


@settings(max_examples=150, deadline=None)
@given(
    m=st.integers(1, 2 * SKINNY_MAX_M),
    n=st.integers(1, 32768),
    k=st.integers(1, 32768),
    grow=st.integers(1, 4096),
    axis=st.sampled_from("mnk"),
    wd=st.sampled_from(["int4_awq", "int4_gptq", "int8", "fp8", "q4_k_m", "q6_k", "q8_0", "mxfp4"]),
    hw=st.sampled_from(DEVICES),
)
def test_weight_only_never_makes_a_bigger_gemm_cheaper(m, n, k, grow, axis, wd, hw):
    hw = perfsim.load_hardware(hw)
    bigger = dict(m=m, n=n, k=k)
    bigger[axis] += grow
    small = kernel_time(hw, Gemm(m, n, k, "bf16", wd))
    assert kernel_time(hw, Gemm(**bigger, dtype="bf16", weight_dtype=wd)) >= small * (1 - 1e-12)


@pytest.mark.parametrize("hw", DEVICES)
def test_weight_only_is_never_slower_than_bf16_weights(hw):
    hw = perfsim.load_hardware(hw)
    for m in (1, 4, 16, 17, 64, 65, 256, 4096):
        bf16 = kernel_time(hw, Gemm(m, 14336, 4096))
        for wd in ("int4_awq", "int8", "q4_k_m"):
            assert kernel_time(hw, Gemm(m, 14336, 4096, "bf16", wd)) <= bf16 * (1 + 1e-12)


JETSON_MODES = {  # family -> modes ordered by rising power (and EMC bandwidth / GPU clock)
    "AGX Orin": [
        "jetson-agx-orin-64gb-15w",
        "jetson-agx-orin-64gb-30w",
        "jetson-agx-orin-64gb-50w",
        "jetson-agx-orin-64gb-maxn",
    ],
    "Orin Nano": [
        "jetson-orin-nano-8gb-7w",
        "jetson-orin-nano-8gb-15w",
        "jetson-orin-nano-8gb-25w",
        "jetson-orin-nano-8gb-maxn-super",
    ],
    "Thor": ["jetson-agx-thor"],
}
EVERY_JETSON = [h for modes in JETSON_MODES.values() for h in modes]
DECODE_FORMATS = ("bf16", "int8", "int4_awq", "int4_gptq", "q4_k_m", "q8_0")


@pytest.fixture(scope="module")
def jetson_decode_s(llama):
    """Batch-1 Llama-3.1-8B decode latency per (profile, format), memory check off (the Nano is 8 GB)."""
    return {
        (h, d): _decode(llama, perfsim.load_hardware(h), d)[0] for h in EVERY_JETSON for d in DECODE_FORMATS
    }


@pytest.mark.parametrize("hw", EVERY_JETSON)
def test_batch1_decode_bf16_slower_than_int8_slower_than_int4_on_every_jetson(jetson_decode_s, hw):
    t = {d: jetson_decode_s[hw, d] for d in DECODE_FORMATS}
    assert t["bf16"] > t["int8"] > t["int4_awq"] >= t["int4_gptq"]
    # GGUF: both beat bf16; Q4_K's per-row unpack can make it slower than Q8_0 on the 15 W mode
    assert t["bf16"] > max(t["q8_0"], t["q4_k_m"])
    # never faster than the byte ratio allows; dequantisation may eat into the gain, not reverse it
    for dtype in ("int8", "int4_awq", "q4_k_m"):
        assert t[dtype] / t["bf16"] >= 0.95 * DTYPE_BYTES[dtype] / DTYPE_BYTES["bf16"]


@pytest.mark.parametrize("family", ["AGX Orin", "Orin Nano"])
@pytest.mark.parametrize("dtype", DECODE_FORMATS)
def test_lower_power_modes_are_never_faster(jetson_decode_s, family, dtype):
    """Lower modes cap the EMC bandwidth and/or the GPU clock: decode never speeds up."""
    modes = JETSON_MODES[family]
    t = [jetson_decode_s[h, dtype] for h in modes]
    assert all(a >= b * (1 - 1e-12) for a, b in zip(t, t[1:], strict=False))
    hws = [perfsim.load_hardware(h) for h in modes]
    for lo, hi, t_lo, t_hi in zip(hws, hws[1:], t, t[1:], strict=False):
        if lo.memory.peak_bw_bytes_per_s < hi.memory.peak_bw_bytes_per_s:
            assert t_lo > t_hi  # strictly slower where the EMC cap is lower


@pytest.mark.parametrize("hw", EVERY_JETSON)
def test_same_dtype_batch1_gemv_is_memory_bound_on_every_jetson(hw):
    """One row is a GEMV on the CUDA cores, not a 64-row tensor tile priced at the tensor peak."""
    hw = perfsim.load_hardware(hw)
    gemm = Gemm(1, 14336, 4096)
    assert gemm.bound(hw) == "memory"
    roof = gemm.cost().bytes / (hw.memory.peak_bw_bytes_per_s * hw.efficiency_in_use.gemm.e_bw)
    assert kernel_time(hw, gemm) <= 1.2 * roof


def test_plain_gemv_is_offered_only_to_small_m():
    from perfsim.ops.weight_only import PLAIN_GEMV_MAX_M, gemv_terms

    hw = perfsim.load_hardware("jetson-agx-orin-64gb-30w")
    bw = hw.memory.peak_bw_bytes_per_s
    assert np.isfinite(gemv_terms(Gemm(PLAIN_GEMV_MAX_M, 4096, 4096), hw, bw)[0])
    assert np.isinf(gemv_terms(Gemm(PLAIN_GEMV_MAX_M + 1, 4096, 4096), hw, bw)[0])


def test_dequant_counts_are_per_packed_word():
    """Marlin int4: 13 instructions per 8 weights; HFMA2 handles a weight pair; dp4a four."""
    from perfsim.ops.weight_only import WEIGHT_KERNELS, gemv_instr_per_weight, weight_kernel

    assert WEIGHT_KERNELS["int4_awq"].unpack == pytest.approx(13 / 8)
    assert WEIGHT_KERNELS["int4_awq"].mac_per_row == 0.5
    assert weight_kernel("int8", "bf16").unpack > weight_kernel("int8", "fp16").unpack
    # the fp path unpacks once for every row; llama.cpp MMVQ repeats the unpack per row
    assert gemv_instr_per_weight(WEIGHT_KERNELS["int4_gptq"], 4) == pytest.approx(13 / 8 + 2)
    assert gemv_instr_per_weight(WEIGHT_KERNELS["q4_k"], 4) == pytest.approx(
        4 * WEIGHT_KERNELS["q4_k"].mac_per_row
    )


@settings(max_examples=120, deadline=None)
@given(
    m=st.integers(1, 2 * SKINNY_MAX_M),
    n=st.integers(64, 32768),
    k=st.integers(64, 32768),
    wd=st.sampled_from([None, "int8", "int4_awq", "int4_gptq", "q4_k_m", "q8_0", "q6_k"]),
    family=st.sampled_from(["AGX Orin", "Orin Nano"]),
)
def test_any_gemm_is_never_faster_in_a_lower_power_mode(m, n, k, wd, family):
    """Lower modes cap clocks, SMs and EMC bandwidth; no GEMM shape or weight format speeds up."""
    times = [kernel_time(perfsim.load_hardware(h), Gemm(m, n, k, "bf16", wd)) for h in JETSON_MODES[family]]
    assert all(a >= b * (1 - 1e-12) for a, b in zip(times, times[1:], strict=False))
