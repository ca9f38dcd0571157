"""Write a calibrated profile by replacing only the YAML's top-level `calibration:` block.

The rest of the file (datasheet numbers, sources, provenance, comments) is kept byte for byte, so
a calibrated profile diffs against its base in exactly one place.
"""

from __future__ import annotations

import re

import yaml

from perfsim.spec.hardware import Calibration, RuntimeCalibration

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def calibration_block(calibration: Calibration) -> str:
    body = calibration.model_dump()
    return yaml.safe_dump({"calibration": body}, sort_keys=False, default_flow_style=False, width=100)


def replace_calibration(base_text: str, calibration: Calibration) -> str:
    """`base_text` with its `calibration:` block (or the end of the file) set to `calibration`."""
    lines = base_text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("calibration:")), None)
    if start is None:
        head = base_text if base_text.endswith("\n") or not base_text else base_text + "\n"
        return head + calibration_block(calibration)
    end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL_KEY.match(lines[i])), len(lines))
    return "".join(lines[:start]) + calibration_block(calibration) + "".join(lines[end:])


def with_runtime_calibrations(base_text: str, runtimes: dict[str, RuntimeCalibration]) -> str:
    """`base_text` with these runtimes' calibrations set in its `calibration.runtimes` (others
    kept); nothing outside the calibration block changes."""
    data = yaml.safe_load(base_text) or {}
    current = Calibration.model_validate(data.get("calibration") or {})
    merged = current.model_copy(update={"runtimes": {**current.runtimes, **runtimes}})
    return replace_calibration(base_text, Calibration.model_validate(merged.model_dump()))
