"""Fit runtimes' calibrations from mapped rows and write them into a profile YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfsim.calibration.fit import with_fitted
from perfsim.calibration.tables.driver import fit_runtime, predict, summary
from perfsim.calibration.writer import with_runtime_calibrations
from perfsim.spec.hardware import RuntimeCalibration

if TYPE_CHECKING:
    import pandas as pd

    from perfsim.spec.hardware import HardwareProfile


@dataclass(frozen=True)
class TableFit:
    calibrations: dict[str, RuntimeCalibration]
    #: runtime, family, n, prior/fitted median and p90 on the held-out half
    quality: pd.DataFrame


def fit_tables(hw: HardwareProfile, rows: pd.DataFrame, runtimes: list[str], source: str) -> TableFit:
    """Each runtime's calibration, fitted on its "fit" rows and judged on its "test" rows."""
    import pandas as pd

    calibrations, parts = {}, []
    for runtime in runtimes:
        own = rows[rows["runtime"] == runtime]
        if own.empty:
            raise ValueError(f"the table has no rows for runtime {runtime!r}.")
        fitted = fit_runtime(hw, own, runtime)
        test = own[own["split"] == "test"]
        before = summary(test, predict(hw, test), ("family",))
        after = summary(test, predict(with_fitted(hw, fitted), test), ("family",))
        quality = before.merge(after, on=["family", "n"], suffixes=("_prior", "_fitted"))
        parts.append(quality.assign(runtime=runtime))
        calibrations[runtime] = RuntimeCalibration(
            source=source, fitted=fitted,
            fit_quality={str(q["family"]): {"n_test": float(q["n"]),
                                            "median_abs_err_prior": round(float(q["median_prior"]), 4),
                                            "median_abs_err_fitted": round(float(q["median_fitted"]), 4),
                                            "p90_abs_err_fitted": round(float(q["p90_fitted"]), 4)}
                         for q in quality.to_dict("records")})
    return TableFit(calibrations, pd.concat(parts, ignore_index=True))


def write_calibrations(base_text: str, fit: TableFit) -> str:
    return with_runtime_calibrations(base_text, fit.calibrations)
