"""The profile a calibration starts from: the bundled profile of a recognised GPU, or for a CPU a
profile of THIS host built from what the OS reports (cores, clock, ISA flags, caches, memory).

No CPU datasheet is at hand for an arbitrary host, so its peaks are derived from the detected ISA
(FLOP per clock per core x cores x clock) and its DRAM peak is the best stream bandwidth measured
in the same calibration run, each with a provenance line saying so. Efficiency priors are those of
the bundled cpu-generic profile; the calibration then fits them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import yaml

from perfsim.io.catalog import find
from perfsim.spec.hardware import HardwareProfile

#: Bundled GPU profiles by a substring of torch.cuda.get_device_name() (first match wins).
_GPU_PROFILES = [("H100 PCIe", "h100-pcie"), ("H100", "h100-sxm"), ("H200", "h200-sxm"),
                 ("B200", "b200"), ("A100", "a100-sxm-80gb"), ("A10G", "a10g"), ("L40S", "l40s"),
                 ("L4", "l4"), ("4090", "rtx-4090"), ("Orin", "jetson-agx-orin-64gb")]


def bundled_profile_for(gpu_name: str) -> str:
    for needle, profile in _GPU_PROFILES:
        if needle.lower() in gpu_name.lower():
            return profile
    known = ", ".join(p for _, p in _GPU_PROFILES)
    raise ValueError(f"no bundled profile matches GPU '{gpu_name}'; pass --base with one of {known} "
                     "or a YAML path")


def last_level_cache_bytes() -> float:
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        match = re.fullmatch(r"(\d+)([KMG]?)", text)
        if match:
            sizes.append(int(match[1]) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match[2]])
    return float(max(sizes, default=32 * 2**20))


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def _mem_total_bytes() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return float(line.split()[1]) * 1024
    raise ValueError("cannot read MemTotal from /proc/meminfo")


def _flops_per_clock(flags: set[str], vendor: str) -> tuple[int, str]:
    if "avx512f" in flags and vendor == "GenuineIntel":
        return 64, "2 AVX-512 FMA units x 16 fp32 lanes x 2 FLOP"
    if "avx512f" in flags or {"avx2", "fma"} <= flags:
        return 32, "2 x 256-bit FMA pipes x 8 fp32 lanes x 2 FLOP (AVX2/FMA, or double-pumped AVX-512)"
    return 16, "2 x 128-bit SSE pipes x 4 fp32 lanes x 2 FLOP"


def measured_dram_bw(measurements: pd.DataFrame, cache_bytes: float) -> float:
    """Best stream bandwidth (bytes moved / time) over copy/read/write rows well beyond the cache."""
    rows = measurements[(measurements["family"] == "memory")
                        & measurements["kind"].isin(["copy", "read", "write"])]
    moved = rows["bytes_read"] + rows["bytes_written"]
    big = rows[moved >= 4 * cache_bytes]
    if big.empty:
        raise ValueError("the memory microbenchmarks have no sizes beyond 4x the last-level cache; "
                         "cannot measure DRAM bandwidth")
    return float(((big["bytes_read"] + big["bytes_written"]) / big["median_s"]).max())


def host_cpu_profile_yaml(measurements: pd.DataFrame) -> str:
    """YAML text of a profile for this CPU (calibration block still empty)."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    cores = len(os.sched_getaffinity(0))
    clock_hz = float(info.get("cpu MHz", "0") or 0) * 1e6
    if clock_hz <= 0:
        raise ValueError("cannot read the CPU clock ('cpu MHz') from /proc/cpuinfo; pass --base")
    per_clock, isa = _flops_per_clock(flags, info.get("vendor_id", ""))
    fp32 = cores * per_clock * clock_hz
    bf16, bf16_why = fp32, "no native bf16 FMA detected: = fp32 peak"
    if "amx_bf16" in flags:
        bf16, bf16_why = cores * 1024 * clock_hz, "AMX-BF16: 1024 FLOP/clk/core"
    elif "avx512_bf16" in flags:
        bf16, bf16_why = 2 * fp32, "AVX512-BF16 dot products: 2x fp32"
    llc = last_level_cache_bytes()
    mem = _mem_total_bytes()
    bw = measured_dram_bw(measurements, llc)
    generic = yaml.safe_load(find("hwprofiles", "cpu-generic")[1])
    name = info.get("model name", "unknown CPU")
    profile = {
        "schema_version": 1, "id": "cpu-host", "display_name": f"{name} ({cores} usable cores)",
        "vendor": info.get("vendor_id", "unknown"), "arch": "x86-64", "form_factor": "cpu",
        "sources": {"OS": "this host's /proc/cpuinfo, /proc/meminfo and /sys/devices/system/cpu caches"},
        "provenance": {
            "compute.sm_count": "measured: usable cores (sched_getaffinity)",
            "compute.clock_tensor_hz": "measured: /proc/cpuinfo 'cpu MHz'",
            "compute.peak_dense_flops_per_s.fp32":
                f"derived: {cores} cores x {per_clock} FLOP/clk ({isa}) x {clock_hz:.4g} Hz",
            "compute.peak_dense_flops_per_s.bf16": f"derived: {bf16_why}",
            "memory.capacity_bytes": "measured: /proc/meminfo MemTotal",
            "memory.usable_bytes": "derived: MemTotal minus 10% for the OS and other processes",
            "memory.reserved_runtime_bytes": "derived: ~1 GiB for Python/torch (cpu-generic prior)",
            "memory.peak_bw_bytes_per_s": "measured: best stream bandwidth at >= 4x LLC in this calibration "
                                          "run (DIMM speeds are not readable without root)",
            "memory.l2_bytes": "measured: last-level cache size from /sys/devices/system/cpu",
            "interconnect.host_link": "derived: host DRAM itself; half the measured stream bandwidth",
            "power.tdp_w": "derived: not detectable from software; nominal 10 W per core (unused by perfsim)",
        },
        "compute": {"sm_count": cores, "clock_tensor_hz": clock_hz,
                    "peak_dense_flops_per_s": {"fp32": fp32, "bf16": bf16}},
        "memory": {"capacity_label": f"{mem / 2**30:.0f}GiB", "capacity_bytes": mem,
                   "usable_bytes": 0.9 * mem, "reserved_runtime_bytes": 2**30,
                   "peak_bw_bytes_per_s": bw, "l2_bytes": llc, "unified_with_host": True},
        "interconnect": {"host_link": {"type": "host-dram", "bw_bytes_per_s_per_dir": bw / 2,
                                       "latency_s": 1e-6}, "scale_up": None},
        "power": {"tdp_w": 10.0 * cores},
        "efficiency": generic["efficiency"],
    }
    text = yaml.safe_dump(profile, sort_keys=False, width=110)
    HardwareProfile.model_validate(yaml.safe_load(text))  # fail here, not when it is loaded
    return f"# Profile of this host, detected by `perfsim calibrate --device cpu`.\n{text}"
