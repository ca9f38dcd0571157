"""Validation against real execution: time prefill and KV-cached decode of a real torch model built
from a perfsim model description, and compare with perfsim's prediction for the same shapes.

Decode is timed at a given context without running the prefill first: the cache is preallocated
and filled with random keys, values and states, which cost the same to read as real ones. The
prediction uses eager launches (no CUDA graphs), as the plain torch model runs, and charges the
host for every torch op the model really dispatches (counted per shape) at the calibrated
per-op dispatch cost: plain torch issues ~4x more ops than the fused kernels perfsim prices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from perfsim.calibrate.cases import TORCH_DTYPES
from perfsim.calibrate.timing import measure
from perfsim.calibrate.torch_model import build_torch_model
from perfsim.cost.request import decode_step, prefill
from perfsim.spec.deployment import Execution
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.model import DTypes, ModelSpec


@dataclass(frozen=True)
class ValidationShapes:
    prefill: tuple[tuple[int, int], ...]  # (batch, prompt_len)
    decode: tuple[tuple[int, int], ...]  # (batch, context_len)


CPU_SHAPES = ValidationShapes(prefill=((1, 128), (1, 512), (4, 256)),
                              decode=((1, 128), (1, 1024), (4, 512), (16, 128), (16, 1024)))
CUDA_SHAPES = ValidationShapes(prefill=((1, 512), (1, 2048), (8, 1024), (1, 8192)),
                               decode=((1, 1024), (8, 4096), (64, 1024), (64, 8192), (256, 2048)))


def shapes_for(device: str) -> ValidationShapes:
    return CUDA_SHAPES if device.startswith("cuda") else CPU_SHAPES


def with_dtype(model: ModelSpec, dtype: str) -> ModelSpec:
    """The same architecture run in `dtype` (fp32 on CPUs without fast bf16); state stays fp32."""
    dtypes = DTypes.model_validate({"weights": dtype, "activations": dtype, "kv_cache": dtype})
    return model.model_copy(update={"dtypes": dtypes})


def _randomise(cache) -> None:
    for tensor in _tensors(cache):
        if tensor.is_floating_point():
            tensor.normal_(0.0, 0.02)


def _tensors(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in _tensors(v)]
    if hasattr(obj, "__dict__"):
        return _tensors(vars(obj))
    return []


class _OpCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        return func(*args, **(kwargs or {}))


def _count_ops(fn) -> int:
    with _OpCounter() as counter:
        fn()
    return counter.ops


def measure_model(model: ModelSpec, device: str, dtype: str, shapes: ValidationShapes,
                  budget_s: float = 1.0, on_done: Callable[[], None] | None = None) -> pd.DataFrame:
    """Measured latency (median, p10, p90 of repetitions) of every prefill and decode shape."""
    torch_model = build_torch_model(model, device=device, dtype=TORCH_DTYPES[dtype], seed=0)
    gen = torch.Generator(device="cpu").manual_seed(0)
    rows = []
    with torch.inference_mode():
        for phase, cases in (("prefill", shapes.prefill), ("decode", shapes.decode)):
            for batch, length in cases:
                new = length if phase == "prefill" else 1
                start = 0 if phase == "prefill" else length
                cache = torch_model.allocate_cache(batch, start + new)
                if phase == "decode":
                    _randomise(cache)
                tokens = torch.randint(0, model.vocab_size, (batch, new), generator=gen).to(device)
                timing = measure([partial(torch_model, tokens, cache, start)], device,
                                 budget_s=budget_s, min_reps=3, max_reps=30, warmup=1, cuda_graphs=False)
                ops = _count_ops(lambda c=cache, t=tokens, s=start: torch_model(t, c, s))
                rows.append({"model": model.id, "phase": phase, "batch": batch, "tokens": length,
                             "measured_s": timing.median_s, "p10_s": timing.p10_s,
                             "p90_s": timing.p90_s, "reps": timing.reps, "torch_ops": ops})
                del cache
                if on_done is not None:
                    on_done()
    return pd.DataFrame(rows)


def predict_table(model: ModelSpec, measured: pd.DataFrame,
                  profiles: dict[str, HardwareProfile]) -> pd.DataFrame:
    """Adds `predicted_<label>_s` and `error_<label>` (predicted / measured - 1) per profile."""
    out = measured.copy()
    steps = [(prefill if row["phase"] == "prefill" else decode_step, int(row["batch"]), int(row["tokens"]))
             for _, row in measured.iterrows()]
    any_hw = next(iter(profiles.values()))
    # kernels launched depend on the shapes only, not on the profile's efficiencies
    kernels = [fn(model, any_hw, b, n, execution=Execution(cuda_graphs=False), check_memory=False,
                  runtime=None).kernels
               for fn, b, n in steps]
    for label, hw in profiles.items():
        predicted = []
        for (fn, b, n), ops, launched in zip(steps, measured["torch_ops"], kernels, strict=True):
            dispatch = hw.efficiency_in_use.launch.host_per_kernel_s * ops / launched
            eager = Execution(cuda_graphs=False, host_per_kernel_s=dispatch)
            predicted.append(fn(model, hw, b, n, execution=eager, check_memory=False, runtime=None).latency_s)
        out[f"predicted_{label}_s"] = predicted
        out[f"error_{label}"] = out[f"predicted_{label}_s"] / out["measured_s"] - 1.0
    return out


def summarise(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Median absolute error per phase and profile, and the measurement spread ((p90-p10)/median)."""
    rows = []
    for phase, group in table.groupby("phase", sort=False):
        row = {"phase": phase, "n": len(group),
               "median_spread": float(((group["p90_s"] - group["p10_s"]) / group["measured_s"]).median())}
        for label in labels:
            row[f"median_abs_error_{label}"] = float(group[f"error_{label}"].abs().median())
        rows.append(row)
    return pd.DataFrame(rows)
