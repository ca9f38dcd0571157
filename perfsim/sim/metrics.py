"""What a serving run records, and the result it returns.

Memory is bounded by the workload, not by the run's length: per-request metrics live in arrays
sized by the number of requests; inter-token latencies go into a log-binned histogram (0.5 %
wide bins); the KV/batch time series is decimated to a fixed number of points. Only the optional
Chrome trace grows with iterations, so it is off unless asked for.

Warm-up (benchmark-client protocol, perfsim.sim.clients): the first `warmup` requests are not
measured. The workload starts no measured request before all of them finish, so the measured
window opens when the last one does: from then on the ITL histogram, the time series and the
iteration count start afresh, and the result holds the measured requests only, so every metric
it reports (TTFT, TPOT, ITL, E2E, throughput over its duration, KV use) covers that window.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perfsim.sim.requests import Request

ITL_EDGES_S = np.geomspace(1e-6, 1e3, 4001)
_SERIES = ("time_s", "replica", "running", "waiting", "kv_used_fraction", "batch_tokens")


class Recorder:
    def __init__(self, num_requests: int, *, series_points: int = 20_000, trace: bool = False,
                 warmup: int = 0):
        n = num_requests
        self.arrival_s, self.first_token_s, self.finish_s = (np.full(n, np.nan) for _ in range(3))
        self.prompt_tokens, self.output_tokens, self.preemptions, self.replica = (
            np.zeros(n, dtype=np.int64) for _ in range(4))
        self.completed = 0
        self.itl_counts = np.zeros(ITL_EDGES_S.size + 1)
        self.iterations = 0
        self._series = np.zeros((series_points, len(_SERIES)))
        self._stride, self._calls, self._rows = 1, 0, 0
        self.trace_events: list[dict] | None = [] if trace else None
        self.warmup, self._warm_left = warmup, warmup
        self.measure_start_s, self._iterations_before = 0.0, 0

    def finished(self, r: Request, now: float) -> None:
        i = r.rid
        if not np.isnan(self.finish_s[i]):
            raise AssertionError(f"request {i} completed twice")
        self.arrival_s[i], self.first_token_s[i], self.finish_s[i] = r.arrival_s, r.first_token_s, now
        self.prompt_tokens[i], self.output_tokens[i] = r.prompt_len, r.generated
        self.preemptions[i], self.replica[i] = r.preemptions, r.replica
        self.completed += 1
        if i < self.warmup:
            self._warm_left -= 1
            if not self._warm_left:  # the warm-up has drained: the measured window opens
                self.itl_counts[:] = 0
                self.measure_start_s, self._iterations_before = now, self.iterations

    def token_gaps(self, gaps_s: np.ndarray, repeats: int = 1) -> None:
        """Inter-token latencies: time since each emitting request's previous token (each gap
        counted `repeats` times)."""
        if gaps_s.size == 1 or (gaps_s.size and gaps_s.min() == gaps_s.max()):  # usual: one batch
            self.itl_counts[int(np.searchsorted(ITL_EDGES_S, gaps_s[0]))] += repeats * gaps_s.size
        elif gaps_s.size:
            np.add.at(self.itl_counts, np.searchsorted(ITL_EDGES_S, gaps_s), repeats)

    def token_gaps_counted(self, gaps_s: np.ndarray, counts: np.ndarray) -> None:
        """Inter-token latencies where gap j was seen by counts[j] requests (one iteration each)."""
        if gaps_s.size:
            np.add.at(self.itl_counts, np.searchsorted(ITL_EDGES_S, gaps_s), counts)

    def sample(self, now: float, replica: int, running: int, waiting: int, kv_used: float,
               batch_tokens: int) -> None:
        self._calls += 1
        if self._calls % self._stride:
            return
        if self._rows == len(self._series):  # full: keep every other point, sample half as often
            self._series[: self._rows // 2] = self._series[::2][: self._rows // 2]
            self._rows //= 2
            self._stride *= 2
        self._series[self._rows] = (now, replica, running, waiting, kv_used, batch_tokens)
        self._rows += 1

    def trace(self, replica: int, start_s: float, duration_s: float, decodes: int, chunks: int,
              tokens: int) -> None:
        if self.trace_events is not None:
            self.trace_events.append({
                "name": "decode" if not chunks else "mixed" if decodes else "prefill", "ph": "X",
                "pid": replica, "tid": 0, "ts": start_s * 1e6, "dur": duration_s * 1e6,
                "args": {"decode_seqs": decodes, "prefill_chunks": chunks, "tokens": tokens}})

    def result(self, meta: dict) -> ServingResult:
        done = ~np.isnan(self.finish_s)
        done[: self.warmup] = False
        requests = pd.DataFrame({
            "arrival_s": self.arrival_s[done], "first_token_s": self.first_token_s[done],
            "finish_s": self.finish_s[done], "prompt_tokens": self.prompt_tokens[done],
            "output_tokens": self.output_tokens[done], "preemptions": self.preemptions[done],
            "replica": self.replica[done]})
        requests["ttft_s"] = requests.first_token_s - requests.arrival_s
        requests["e2e_s"] = requests.finish_s - requests.arrival_s
        decode_tokens = (requests.output_tokens - 1).where(requests.output_tokens > 1)
        requests["tpot_s"] = (requests.finish_s - requests.first_token_s) / decode_tokens
        series = pd.DataFrame(self._series[: self._rows], columns=list(_SERIES))
        if self.warmup:
            series = series[series.time_s >= self.measure_start_s].reset_index(drop=True)
            meta = {**meta, "warmup_requests": self.warmup}
        return ServingResult(requests=requests, itl_counts=self.itl_counts.copy(), timeseries=series,
                             iterations=self.iterations - self._iterations_before, meta=meta,
                             trace_events=self.trace_events)


@dataclass(frozen=True, eq=False)
class ServingResult:
    requests: pd.DataFrame  # one row per completed request
    itl_counts: np.ndarray  # histogram over ITL_EDGES_S (index 0: below, last: above)
    timeseries: pd.DataFrame
    iterations: int
    meta: dict = field(default_factory=dict)
    trace_events: list[dict] | None = None

    def itl_quantile_s(self, q: float) -> float:
        """Inter-token latency quantile from the histogram (bin's geometric centre)."""
        total = self.itl_counts.sum()
        if not total:
            return float("nan")
        i = int(np.searchsorted(np.cumsum(self.itl_counts), q * total))
        i = min(max(i, 1), ITL_EDGES_S.size - 1)
        return float(np.sqrt(ITL_EDGES_S[i - 1] * ITL_EDGES_S[i]))

    def goodput(self, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None) -> float:
        """Requests per second that met both SLOs (a missing SLO is not checked)."""
        r = self.requests
        ok = np.ones(len(r), dtype=bool)
        if ttft_slo_s is not None:
            ok &= r.ttft_s.to_numpy() <= ttft_slo_s
        if tpot_slo_s is not None:
            ok &= ~(r.tpot_s.to_numpy() > tpot_slo_s)
        return float(ok.sum() / self.duration_s) if len(r) else 0.0

    @property
    def duration_s(self) -> float:
        r = self.requests
        return float(r.finish_s.max() - r.arrival_s.min()) if len(r) else 0.0

    def summary(self, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None) -> dict:
        r, span = self.requests, self.duration_s
        out: dict[str, float | int | str] = {"requests_completed": len(r)}
        for name in ("ttft_s", "tpot_s", "e2e_s"):
            values = r[name].dropna().to_numpy()
            stem = name[:-2]
            out[f"{stem}_mean_s"] = float(values.mean()) if values.size else float("nan")
            for q in (50, 90, 99):
                out[f"{stem}_p{q}_s"] = float(np.percentile(values, q)) if values.size else float("nan")
        out["itl_p50_s"], out["itl_p99_s"] = self.itl_quantile_s(0.5), self.itl_quantile_s(0.99)
        out["throughput_tok_s"] = float(r.output_tokens.sum() / span) if span else 0.0
        out["requests_per_s"] = len(r) / span if span else 0.0
        out["duration_s"] = span
        out["preemptions"] = int(r.preemptions.sum())
        out["iterations"] = self.iterations
        ts = self.timeseries
        out["kv_used_mean"] = float(ts.kv_used_fraction.mean()) if len(ts) else 0.0
        out["kv_used_max"] = float(ts.kv_used_fraction.max()) if len(ts) else 0.0
        out["running_mean"] = float(ts.running.mean()) if len(ts) else 0.0
        if ttft_slo_s is not None or tpot_slo_s is not None:
            out["goodput_req_s"] = self.goodput(ttft_slo_s, tpot_slo_s)
        return out

    def to_chrome_trace(self, path: str | os.PathLike) -> None:
        """Iterations as a Chrome/Perfetto trace (one process per replica); needs trace=True."""
        if self.trace_events is None:
            from perfsim.errors import PerfsimInputError

            raise PerfsimInputError("no timeline recorded; run simulate_serving(..., trace=True).")
        with open(path, "w") as fh:
            json.dump({"traceEvents": self.trace_events, "displayTimeUnit": "ms"}, fh)
