"""Fit a profile's efficiency parameters to microbenchmark measurements (scipy least squares).

Each measured row names the work it did in perfsim's own terms (a GEMM's m, n, k; an attention's
batch, q_len, kv_len, heads; a stream's bytes), so the prediction for a row is exactly the perfsim
op the predictor would use, priced with trial efficiencies. Parameters are fitted per family in
log space on log-time residuals (relative error, robust soft-L1 loss), starting from the profile's
priors and bounded by the schema's ranges. Datasheet numbers are never touched: the result is a
`calibration.fitted` map of dotted paths, and `write_profile_yaml` rewrites only that block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from perfsim.ops import AllReduce, Attention, Elementwise, Gemm, LinearAttention, Mamba2
from perfsim.spec.hardware import Calibration, HardwareProfile, efficiency_node

if TYPE_CHECKING:
    import pandas as pd

#: Parameter ranges for the fit: efficiencies are fractions of peak, fixed costs are seconds.
_FRACTION = (1e-3, 1.1)
_SECONDS = (1e-8, 5e-3)
_LENGTH = (1.0, 1e5)


def _gemm_params(rows: pd.DataFrame, hw: HardwareProfile) -> dict[str, tuple[float, float]]:
    """Peak fraction per dtype, K-pipeline fill, fixed cost, streaming efficiency, and the relative
    efficiency of every tile but the largest (small-M GEMMs run on small tiles: on CPUs the
    packing and GEMV paths, on GPUs low-occupancy tiles)."""
    params = {f"gemm.e_max.{d}": _FRACTION for d in sorted(rows["dtype"].unique())}
    tiles = {f"gemm.tiles.{i}.2": _FRACTION for i in range(1, len(hw.efficiency_in_use.gemm.tiles))}
    params |= tiles | {"gemm.k_half": _LENGTH, "gemm.t_fixed_s": _SECONDS, "gemm.e_bw": _FRACTION}
    if (rows["m"] <= 1).any() and (rows["m"] > 1).any():
        params["gemm.gemv_e_bw"] = _FRACTION
    return params


def _attention_params(rows: pd.DataFrame, hw: HardwareProfile) -> dict[str, tuple[float, float]]:
    params: dict[str, tuple[float, float]] = {"attention.t_fixed_s": _SECONDS}
    if (rows["phase"] == "prefill").any():
        params |= {f"attention.prefill_e.{d}": _FRACTION for d in sorted(rows["dtype"].unique())}
        params["attention.kv_half"] = _LENGTH
    if (rows["phase"] == "decode").any():
        params["attention.decode_e_bw"] = _FRACTION
    return params


#: Family -> the efficiency fields its measurements determine (with their bounds).
FITTED_FAMILIES: dict[str, Callable[[pd.DataFrame, HardwareProfile], dict[str, tuple[float, float]]]] = {
    "memory": lambda rows, hw: {"memory.e_bw": _FRACTION, "memory.t_fixed_s": _SECONDS},
    "gemm": _gemm_params,
    "attention": _attention_params,
    "scan": lambda rows, hw: {"scan.e_flops": _FRACTION, "scan.e_bw": _FRACTION, "scan.t_fixed_s": _SECONDS},
    "comm": lambda rows, hw: {"comm.allreduce_bus_eff": _FRACTION},
}
#: Families predicted with the other families' fit and reported as a held-out check.
HELD_OUT_FAMILIES = ("moe",)


def _int(value) -> int:
    return int(round(float(value)))


def _op_for(row: pd.Series):
    """The perfsim op that prices the work a measured row did."""
    import pandas as pd  # deferred: scipy and pandas load only when a fit runs

    family = row["family"]
    if family in ("gemm", "moe"):
        groups = float(row["groups"]) if "groups" in row and pd.notna(row["groups"]) else 1.0
        return Gemm(float(row["m"]), float(row["n"]), float(row["k"]), row["dtype"], groups=groups)
    if family == "memory":
        return Elementwise(row["kind"], float(row["bytes_read"]), float(row["bytes_written"]))
    if family == "attention":
        window = _int(row["window"]) if pd.notna(row.get("window")) else None
        return Attention(row["phase"], float(row["batch"]), float(row["q_len"]), float(row["kv_len"]),
                         _int(row["num_heads"]), _int(row["num_kv_heads"]), _int(row["head_dim"]),
                         window=window, dtype=row["dtype"], causal=row["phase"] == "prefill")
    if family == "scan":
        if row["kind"].startswith("mamba2"):
            return Mamba2(row["phase"], float(row["batch"]), float(row["seq_len"]), _int(row["num_heads"]),
                          _int(row["head_dim"]), _int(row["state_size"]), _int(row["n_groups"]),
                          _int(row["chunk_size"]), row["dtype"])
        return LinearAttention(row["phase"], float(row["batch"]), float(row["seq_len"]),
                               _int(row["num_heads"]), _int(row["head_k_dim"]), _int(row["head_v_dim"]),
                               "gla", _int(row["chunk_size"]), row["dtype"])
    if family == "comm":
        return AllReduce(float(row["bytes_per_gpu"]), _int(row["num_gpus"]))
    raise ValueError(f"no perfsim op prices measurement family {family!r}")


def with_fitted(hw: HardwareProfile, fitted: dict[str, float]) -> HardwareProfile:
    """A copy of `hw` whose calibration.fitted is `fitted` on top of the existing fitted values."""
    data = hw.model_dump()
    data["calibration"]["fitted"] = {**hw.calibration.fitted, **fitted}
    return HardwareProfile.model_validate(data)


def predict_rows(hw: HardwareProfile, rows: pd.DataFrame) -> np.ndarray:
    ops = [_op_for(row) for _, row in rows.iterrows()]
    return np.array([float(op.time(hw)) for op in ops])


@dataclass(frozen=True)
class CalibrationFit:
    fitted: dict[str, float]
    #: Family -> n, median/p90/max absolute relative error before (prior) and after the fit.
    quality: dict[str, dict[str, float]]
    #: The measurements with `predicted_prior_s` and `predicted_fitted_s` columns added.
    predictions: pd.DataFrame


def _errors(predicted: np.ndarray, measured: np.ndarray) -> np.ndarray:
    return np.abs(predicted / measured - 1.0)


def _fit_family(hw: HardwareProfile, rows: pd.DataFrame, bounds: dict[str, tuple[float, float]]):
    names = list(bounds)
    ops = [_op_for(row) for _, row in rows.iterrows()]
    log_measured = np.log(rows["median_s"].to_numpy(dtype=float))
    prior = hw.efficiency_in_use.model_dump()

    def current(path):
        *parents, leaf = path.split(".")
        node = efficiency_node(prior, ".".join(parents))
        value = node[int(leaf)] if isinstance(node, list | tuple) else node[leaf]
        return node["e_bw"] if value is None else value  # gemv_e_bw unset: same as e_bw

    start = np.array([np.clip(current(p), *bounds[p]) for p in names])
    lo = np.log([bounds[p][0] for p in names])
    hi = np.log([bounds[p][1] for p in names])

    def residuals(theta):
        trial = with_fitted(hw, dict(zip(names, np.exp(theta).tolist(), strict=True)))
        predicted = np.array([float(op.time(trial)) for op in ops])
        return np.log(np.maximum(predicted, 1e-12)) - log_measured

    from scipy.optimize import least_squares

    result = least_squares(residuals, np.log(start), bounds=(lo, hi), loss="soft_l1", f_scale=0.1,
                           x_scale=1.0, diff_step=1e-3)
    return {p: float(f"{v:.4g}") for p, v in zip(names, np.exp(result.x), strict=True)}


def current_value(hw: HardwareProfile, path: str, bounds: tuple[float, float]) -> float:
    """The value `path` has in `hw` now, as a fit's starting point: an unset implementation
    field starts from the default implementation's, any other unset field mid-range."""
    data = hw.efficiency_in_use.model_dump()
    for candidate in (path, _default_impl_path(path)):
        *parents, leaf = candidate.split(".")
        try:
            node = efficiency_node(data, ".".join(parents))
            value = node[int(leaf)] if isinstance(node, list | tuple) else node.get(leaf)
        except (ValueError, IndexError):
            value = None
        if value is not None and value > 0:  # 0 is "term off": start a fit mid-range instead
            return float(np.clip(value, *bounds))
    return float(np.sqrt(bounds[0] * bounds[1]))


#: Unset refining figures (fp8-KV attention, per-tensor fp8 MoE, scan decode) start from the
#: figure they refine.
_REFINES = {"attention.kv_fp8.prefill_e": "attention.prefill_e.bf16",
            "attention.kv_fp8.kv_half": "attention.kv_half",
            "attention.kv_fp8.decode_e_bw": "attention.decode_e_bw",
            "attention.kv_fp8.decode_item_s": "attention.decode_item_s",
            "attention.kv_fp8.query_quant_e_bw": "memory.e_bw",
            "gemm.quant_tensor.e_bw": "memory.e_bw",
            "gemm.quant_block.e_bw": "memory.e_bw",
            "gemm.quant_tensor.t_fixed_s": "memory.t_fixed_s",
            "gemm.quant_block.t_fixed_s": "memory.t_fixed_s",
            "moe.per_tensor_fp8.grouped_gemm_e": "moe.grouped_gemm_e",
            "moe.per_tensor_fp8.t_fixed_s": "moe.t_fixed_s",
            "moe.block_fp8.grouped_gemm_e": "moe.grouped_gemm_e",
            "moe.block_fp8.t_fixed_s": "moe.t_fixed_s",
            "moe.per_tensor_fp8.mainloop_e": "moe.mainloop_e",
            "moe.block_fp8.mainloop_e": "moe.mainloop_e",
            "moe.flashinfer_cutlass.grouped_gemm_e": "moe.grouped_gemm_e",
            "moe.flashinfer_cutlass.mainloop_e": "moe.mainloop_e",
            "moe.flashinfer_cutlass.t_fixed_s": "moe.t_fixed_s",
            "moe.per_tensor_fp8.expert_s": "moe.expert_s",
            "moe.block_fp8.expert_s": "moe.expert_s",
            "moe.flashinfer_cutlass.expert_s": "moe.expert_s",
            "scan.decode_e_bw": "scan.e_bw",
            "scan.decode_t_fixed_s": "scan.t_fixed_s"}


def _default_impl_path(path: str) -> str:
    parts = path.split(".")
    if len(parts) > 3 and parts[0] == "attention" and parts[1] == "implementations":
        return ".".join([parts[0], *parts[3:]])
    return _REFINES.get(path, path)


def fit_parameters(hw: HardwareProfile, bounds: dict[str, tuple[float, float]],
                   predict: Callable[[HardwareProfile], np.ndarray], measured_s: np.ndarray,
                   max_evaluations: int = 400) -> dict[str, float]:
    """Values for the efficiency paths in `bounds` that make `predict(profile)` match
    `measured_s` in log space (relative error, soft-L1 so a few odd rows do not dominate),
    starting from `hw`'s current values."""
    from scipy.optimize import least_squares

    names = list(bounds)
    log_measured = np.log(np.asarray(measured_s, dtype=float))
    start = np.log([current_value(hw, p, bounds[p]) for p in names])
    lo = np.log([bounds[p][0] for p in names])
    hi = np.log([bounds[p][1] for p in names])

    def residuals(theta):
        trial = with_fitted(hw, dict(zip(names, np.exp(theta).tolist(), strict=True)))
        return np.log(np.maximum(predict(trial), 1e-12)) - log_measured

    def solve(theta0):
        return least_squares(residuals, np.clip(theta0, lo, hi), bounds=(lo, hi), loss="soft_l1",
                             f_scale=0.1, x_scale=1.0, diff_step=1e-3, max_nfev=max_evaluations)

    result = solve(start)
    # A term the priors leave off (0) starts mid-range, which can sit past a ridge (a latency
    # floor started too high makes the other terms shrink to compensate): also start it a
    # quarter up its range and keep the better optimum.
    off = np.isclose(start, (lo + hi) / 2)
    if off.any():
        low = solve(np.where(off, lo + (hi - lo) / 4, start))
        result = low if low.cost < result.cost else result
    return {p: float(f"{v:.4g}") for p, v in zip(names, np.exp(result.x), strict=True)}


def _launch_params(rows: pd.DataFrame) -> dict[str, float]:
    """Launch costs are measured directly, not fitted through a model."""
    fitted = {}
    eager = rows[rows["kind"] == "eager_op"]
    if len(eager):
        fitted["launch.host_per_kernel_s"] = float(f"{eager['median_s'].median():.4g}")
    graphs = rows[rows["kind"] == "graph_replay"]
    if len(graphs) >= 2:
        slope, intercept = np.polyfit(graphs["ops"].astype(float), graphs["median_s"].astype(float), 1)
        fitted["launch.graph_launch_s"] = float(f"{max(intercept, 1e-7):.4g}")
        fitted["launch.gpu_min_kernel_s"] = float(f"{max(slope, 1e-8):.4g}")
    return fitted


def fit_profile(hw: HardwareProfile, measurements: pd.DataFrame) -> CalibrationFit:
    """Fit every family present in `measurements` (columns from calibrate/, one row per case)."""
    frame = measurements.reset_index(drop=True)
    fitted = _launch_params(frame[frame["family"] == "launch"])
    for family, param_bounds in FITTED_FAMILIES.items():
        rows = frame[frame["family"] == family]
        if len(rows):
            fitted |= _fit_family(hw, rows, param_bounds(rows, hw))
    calibrated = with_fitted(hw, fitted)
    priced = frame[frame["family"].isin([*FITTED_FAMILIES, *HELD_OUT_FAMILIES])].copy()
    priced["predicted_prior_s"] = predict_rows(hw, priced)
    priced["predicted_fitted_s"] = predict_rows(calibrated, priced)
    quality = {}
    for name, rows in priced.groupby("family"):
        measured = rows["median_s"].to_numpy(dtype=float)
        before = _errors(rows["predicted_prior_s"].to_numpy(), measured)
        after = _errors(rows["predicted_fitted_s"].to_numpy(), measured)
        quality[str(name)] = {
            "n": float(len(rows)),
            "held_out": float(name in HELD_OUT_FAMILIES),
            "median_abs_err_prior": float(f"{np.median(before):.4g}"),
            "median_abs_err_fitted": float(f"{np.median(after):.4g}"),
            "p90_abs_err_fitted": float(f"{np.percentile(after, 90):.4g}"),
            "max_abs_err_fitted": float(f"{np.max(after):.4g}"),
        }
    return CalibrationFit(fitted, quality, priced)


def calibrated(hw: HardwareProfile, fit: CalibrationFit, environment: dict[str, str],
               microbenchmarks: list[str]) -> HardwareProfile:
    """`hw` with a filled-in calibration block; everything else is unchanged."""
    data = hw.model_dump()
    data["calibration"] = Calibration(
        calibrated=True,
        date=environment.get("date_utc"),
        environment=environment,
        microbenchmarks=microbenchmarks,
        fitted=dict(fit.fitted),
        fit_quality=fit.quality,
    ).model_dump()
    return HardwareProfile.model_validate(data)
