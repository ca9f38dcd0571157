"""Where every number comes from: device efficiencies (calibrated or priors), the runtime's
host costs (fitted, or read from its documentation) and accuracy points (measured or estimated),
as short badges for the page and as a dict for the JSON export."""

from __future__ import annotations

import pandas as pd

import perfsim
from perfsim.accuracy import DEFAULT_BENCHMARK
from perfsim.spec.hardware import HardwareProfile
from perfsim.spec.runtime import RuntimeProfile


def device(hw: HardwareProfile, runtime_id: str | None = None) -> dict:
    """Efficiency provenance of a device profile under a runtime: calibrated on the device (when,
    from which microbenchmarks), fitted to the runtime's measured kernel tables (the calibration
    `HardwareProfile.for_runtime` applies), or the profile's documented priors."""
    cal = hw.calibration
    if cal.calibrated:
        return {"efficiencies": "calibrated", "date": cal.date, "microbenchmarks": list(cal.microbenchmarks),
                "fitted": sorted(cal.fitted)}
    tables = cal.runtimes.get(runtime_id) if runtime_id else None
    if tables is not None:
        return {"efficiencies": "tables", "runtime": runtime_id, "source": tables.source,
                "fitted": sorted(tables.fitted)}
    return {"efficiencies": "priors", "note": "documented priors in the profile; not calibrated on a device"}


def device_badge(hw: HardwareProfile, runtime_id: str | None = None) -> str:
    """One line: ':green[calibrated ...]', ':blue[tables ...]' or ':orange[priors ...]' (Streamlit
    colour markup)."""
    info = device(hw, runtime_id)
    if info["efficiencies"] == "calibrated":
        benches = ", ".join(info["microbenchmarks"][:3]) or "microbenchmarks"
        return f":green-badge[calibrated] {hw.id} efficiencies fitted {info['date'] or ''} from {benches}"
    if info["efficiencies"] == "tables":
        return (f":blue-badge[measured kernels] {hw.id} efficiencies fitted to {runtime_id}'s kernels "
                f"({len(info['fitted'])} figures; {info['source']})")
    return f":orange-badge[priors] {hw.id} efficiencies are documented priors (no calibration run)"


def runtime(rt: RuntimeProfile | None, hw: HardwareProfile) -> dict:
    """Host costs the runtime charges on this device, each with its source and fitting script."""
    if rt is None:
        return {"runtime": None, "note": "runtime-free: no host costs, CUDA graphs, default kernels"}
    costs = {}
    for name, cost in rt.on(hw.arch).host:
        if cost is not None:
            costs[name] = {"value_s": cost.value_s, "source": cost.source, "fitted_by": cost.fitted_by}
    return {"runtime": rt.id, "version": rt.version, "source": rt.source.url, "host_costs": costs}


def runtime_badge(rt: RuntimeProfile | None, hw: HardwareProfile) -> str:
    info = runtime(rt, hw)
    if rt is None:
        return ":gray-badge[no runtime] runtime-free kernels, no host costs"
    costs = info["host_costs"]
    fitted = [n for n, c in costs.items() if c["fitted_by"]]
    documented = [n for n in costs if n not in fitted]
    parts = []
    if fitted:
        parts.append(f"fitted ({', '.join(fitted)}) by {costs[fitted[0]]['fitted_by']}")
    if documented:
        parts.append(f"from its documentation ({', '.join(documented)})")
    text = "; ".join(parts) or "no host costs listed"
    return f":blue-badge[{rt.id}] host costs {text}"


def _kind(text: str) -> str:
    text = text.lower()
    if text.startswith("measured"):
        return "measured"
    return "proxy" if text.startswith("proxy") else "estimated"


def accuracy_kind(frame: pd.DataFrame) -> pd.Series:
    """'measured', 'proxy' (a related model's published score) or 'estimated' per frontier row: the
    frontier's own kind column when it carries one, else read from `accuracy_source`
    ('measured: <url>' vs an estimator's name)."""
    for column in ("accuracy_kind", "accuracy_provenance"):
        if column in frame.columns:
            return frame[column].fillna("").astype(str).map(_kind)
    if "accuracy_source" not in frame.columns:
        return pd.Series("estimated", index=frame.index)
    return frame["accuracy_source"].fillna("").astype(str).map(_kind)


def benchmark(frame: pd.DataFrame) -> str:
    """The benchmark the accuracy axis is on (a column when the frontier names it)."""
    for column in ("accuracy_benchmark", "benchmark"):
        if column in frame.columns and frame[column].notna().any():
            return ", ".join(sorted(set(frame[column].dropna().astype(str))))
    return DEFAULT_BENCHMARK


def summary(setup) -> dict:
    """Everything the export records about where its numbers come from."""
    runtime_id = setup.runtime.id if setup.runtime is not None else None
    return {"perfsim_version": perfsim.__version__, "device": device(setup.hardware, runtime_id),
            "runtime": runtime(setup.runtime, setup.hardware),
            "model": {"id": setup.model.id, "applied_transforms": [
                str(t) for t in getattr(setup.model, "applied_transforms", None) or []]}}
