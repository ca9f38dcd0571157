"""Transfer measured-kernel calibrations from a profile with tables to one without.

H200 SXM has no table that this project may fit to, but it is the same GH100 die as H100 SXM
(132 SMs, same clocks and kernels) with more and faster HBM: its calibration is H100's runtime
calibrations, every figure being a fraction of the device's own peaks or a per-kernel latency of
the same SMs (an L2 rate given as a fraction of HBM peak is rescaled: `L2_RATES`). The fitting
itself is benchmarks/fidelity_kernels.py --write-profiles (or `perfsim calibrate --from-table
aiconfigurator ...`).

    python benchmarks/fit_kernels.py --transfer h100-sxm h200-sxm
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from perfsim.calibration.writer import with_runtime_calibrations
from perfsim.spec.hardware import HardwareProfile, RuntimeCalibration

#: Fitted figures that are a rate of the on-chip L2 expressed as a fraction of HBM peak (TRT-LLM's
#: masked-MHA decode re-reads each KV head per query head, mostly from L2): the same L2 on a
#: device with faster HBM is a smaller fraction, so they move scaled by donor / target HBM peak.
L2_RATES = ("decode_reread_e_bw",)

REASONS = {("h100-sxm", "h200-sxm"): "same GH100 SMs, clocks and kernels as H100 SXM; fractions of "
                                     "this profile's own peaks and per-kernel latencies carry over"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfer", nargs=2, metavar=("FROM", "TO"), required=True)
    args = parser.parse_args()
    source, target = args.transfer
    reason = REASONS.get((source, target))
    if reason is None:
        print(f"no stated reason to transfer {source} -> {target}; allowed: "
              + ", ".join(f"{a} -> {b}" for a, b in REASONS), file=sys.stderr)
        return 2
    donor = HardwareProfile.model_validate(yaml.safe_load(Path(f"hwprofiles/{source}.yaml").read_text()))
    if not donor.calibration.runtimes:
        print(f"hwprofiles/{source}.yaml has no runtime calibrations to transfer", file=sys.stderr)
        return 2
    path = Path(f"hwprofiles/{target}.yaml")
    receiver = HardwareProfile.model_validate(yaml.safe_load(path.read_text()))
    hbm_ratio = donor.memory.peak_bw_bytes_per_s / receiver.memory.peak_bw_bytes_per_s

    def moved_value(name: str, value: float) -> float:
        return value * hbm_ratio if name.endswith(L2_RATES) else value

    moved = {rid: RuntimeCalibration(source=f"transferred from {source} ({reason}); there: {c.source}",
                                     fitted={k: moved_value(k, v) for k, v in c.fitted.items()})
             for rid, c in donor.calibration.runtimes.items()}
    path.write_text(with_runtime_calibrations(path.read_text(), moved))
    print(f"wrote {len(moved)} runtime calibrations into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
