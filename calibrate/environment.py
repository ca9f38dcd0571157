"""What a measurement was taken on: device, clocks, software versions, threads.

A calibration is only meaningful for the machine and software stack that produced it, so every
measurements table and every calibrated profile carries this record.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess

import torch


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_smi(index: int) -> dict[str, str]:
    """Clocks and limits at measurement time (throttling shows up as sm clock < max)."""
    if shutil.which("nvidia-smi") is None:
        return {}
    fields = "clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu,driver_version"
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--id={index}", f"--query-gpu={fields}", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [v.strip() for v in out.split(",")]
    return {f"gpu_{k.replace('.', '_')}": v for k, v in zip(fields.split(","), values, strict=False)}


def describe(device: str) -> dict[str, str]:
    """Flat string map (it goes into the profile's calibration.environment and the CSV sidecar)."""
    env = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": device,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "host_cpu": _cpu_model(),
        "host_cpus_usable": str(len(os.sched_getaffinity(0))),
        "torch_threads": str(torch.get_num_threads()),
    }
    if device.startswith("cuda"):
        index = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(index)
        env.update({
            "gpu_name": props.name,
            "gpu_sm_count": str(props.multi_processor_count),
            "gpu_memory_bytes": str(props.total_memory),
            "gpu_capability": f"{props.major}.{props.minor}",
            "cuda": str(torch.version.cuda),
            "cudnn": str(torch.backends.cudnn.version()),
            "gpu_count": str(torch.cuda.device_count()),
        })
        env.update(_nvidia_smi(index))
    return env


def resolve_device(device: str) -> str:
    """'cpu' or 'cuda[:i]', checked against what this machine has (one sentence if not)."""
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but torch sees no CUDA GPU on this machine; "
                             "use --device cpu")
        return device
    raise ValueError(f"--device must be 'cpu' or 'cuda' (got {device!r})")
