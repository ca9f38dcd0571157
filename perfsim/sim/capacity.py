"""Capacity search: the highest Poisson request rate whose simulated run meets the SLOs.

Latency percentiles grow with load, so "meets the SLOs" is a monotone predicate of the rate and
bisection applies. The same seed gives the same exponential draws scaled by 1/rate, so runs at
different rates see the same request sequence and the predicate stays monotone in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.cost.runtime import DEFAULT_RUNTIME, RuntimeLike
from perfsim.errors import PerfsimInputError
from perfsim.sim.serving import simulate_serving
from perfsim.sim.workloads import Poisson


@dataclass(frozen=True)
class CapacityResult:
    rate_req_s: float  # highest rate found to meet every SLO (0.0 if even the lowest failed)
    summary: dict | None  # the run at that rate
    probes: tuple[tuple[float, bool], ...]  # (rate, met) in the order tried
    slo: dict


def max_rate_under_slo(model, hw, *, slo: dict[str, float], prompt_len=1024, output_len=256,
                       num_requests: int = 2000, engine=None, decoding=None, execution=None,
                       replicas: int = 1, seed: int = 0, min_rate: float = 0.05,
                       max_rate: float = 1e4, rel_tol: float = 0.02,
                       runtime: RuntimeLike = DEFAULT_RUNTIME) -> CapacityResult:
    """`slo` maps summary keys to upper bounds, e.g. {"ttft_p99_s": 1.0, "tpot_p99_s": 0.05};
    every probe is a serving simulation under `runtime`."""
    if not slo:
        raise PerfsimInputError("slo needs at least one bound, e.g. {'ttft_p99_s': 1.0}.")
    if not 0 < min_rate < max_rate:
        raise PerfsimInputError(f"need 0 < min_rate < max_rate (got {min_rate}, {max_rate}).")
    if not 0 < rel_tol < 1:
        raise PerfsimInputError(f"rel_tol must be in (0, 1) (got {rel_tol}).")
    probes: list[tuple[float, bool]] = []
    cache: dict[float, dict] = {}

    def meets(rate: float) -> bool:
        workload = Poisson(rate, num_requests=num_requests, prompt_len=prompt_len, output_len=output_len)
        summary = simulate_serving(model, hw, workload, engine, decoding, seed=seed, execution=execution,
                                   replicas=replicas, runtime=runtime).summary()
        unknown = [k for k in slo if k not in summary]
        if unknown:
            raise PerfsimInputError(f"slo key(s) {', '.join(unknown)} are not summary metrics; "
                                    f"allowed: {', '.join(k for k in summary if k.endswith('_s'))}.")
        ok = all(summary[k] <= bound for k, bound in slo.items())
        probes.append((rate, ok))
        cache[rate] = summary
        return ok

    lo = min_rate
    if not meets(lo):
        return CapacityResult(0.0, None, tuple(probes), dict(slo))
    hi = lo * 2
    while hi < max_rate and meets(hi):
        lo, hi = hi, hi * 2
    if hi >= max_rate:
        hi = max_rate
        if meets(hi):
            return CapacityResult(hi, cache[hi], tuple(probes), dict(slo))
    while hi / lo - 1 > rel_tol:
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if meets(mid) else (lo, mid)
    return CapacityResult(lo, cache[lo], tuple(probes), dict(slo))
