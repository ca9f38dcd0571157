"""Fitting a runtime's host costs to measured step times (issue 17, "honest host costs").

Every measured row is a time t (seconds per decode step, per output token or per prefill) that
perfsim prices as its kernel-only device time d (host costs 0) plus host parameters times what
the row says about them:

    t  ~=  d + sum_j theta_j * x_j        (x: 1 per step, running sequences, kernels launched eagerly, ...)

The fit minimises the squared *relative* error sum_i ((d_i + x_i.theta - t_i) / t_i)^2 with
theta >= 0 (exact non-negative least squares by enumerating active sets; a runtime has at most a
handful of parameters). The additive form is exact under CUDA graphs; eagerly launched kernels
overlap host enqueue with device work, so a caller that passes `predictor` (perfsim's own
prediction of a row for given values) gets the linear solution refined by bounded non-linear
least squares on that predictor, and every reported error uses it. A parameter is fitted only
when at least `min_rows` rows carry it and the rows tell it apart from the others (full column
rank); otherwise it is reported as not identifiable. Leave-one-out refits without each row and
predicts it, so a row's LOO prediction never depends on its own value. Pure functions: the
callers price the rows and do all I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: HostCosts fields this module fits, in the order they are tried for identifiability.
PARAMETERS = ("per_step", "per_seq_per_step", "per_kernel_eager", "per_draft_step", "per_request")


@dataclass(frozen=True)
class HostRow:
    """One measurement: `measured_s` against `device_s` (perfsim's kernel-only price) plus
    `features[param]` units of each host parameter (e.g. {"per_step": 1, "per_seq_per_step": 8})."""

    key: str
    measured_s: float
    device_s: float
    features: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if not (self.measured_s > 0 and np.isfinite(self.measured_s)):
            raise ValueError(f"row {self.key}: measured_s must be a positive number")
        if not (self.device_s >= 0 and np.isfinite(self.device_s)):
            raise ValueError(f"row {self.key}: device_s must be a non-negative number")

    def x(self, name: str) -> float:
        return float(self.features.get(name, 0.0))


#: perfsim's seconds for a row given host-parameter values (the non-linear eager launch model).
Predictor = Callable[[HostRow, dict[str, float]], float]


@dataclass(frozen=True)
class HostFit:
    """Fitted values (seconds) of the identified parameters; `unidentified` says why the others
    are not fitted; `predictor`, when given, prices rows instead of the additive form."""

    values: dict[str, float]
    rows: tuple[str, ...]
    unidentified: dict[str, str]
    predictor: Predictor | None = field(default=None, compare=False)

    def predict(self, row: HostRow) -> float:
        if self.predictor is not None:
            return self.predictor(row, self.values)
        return predict(row, self.values)


def predict(row: HostRow, values: dict[str, float]) -> float:
    return row.device_s + sum(v * row.x(p) for p, v in values.items())


def rel_error(predicted: float, measured: float) -> float:
    """(predicted - measured) / measured: positive means perfsim is too slow."""
    return (predicted - measured) / measured


def _carried(rows: Sequence[HostRow], name: str) -> int:
    return sum(1 for r in rows if r.x(name) != 0)


def identifiable(
    rows: Sequence[HostRow], candidates: Sequence[str] = PARAMETERS, min_rows: int = 2
) -> tuple[list[str], dict[str, str]]:
    """(parameters the rows can fit, {parameter: why not} for the others). Candidates are taken
    in order; one is kept if >= `min_rows` rows carry it and adding it keeps the scaled design
    matrix at full column rank."""
    kept: list[str] = []
    why: dict[str, str] = {}
    for name in candidates:
        n = _carried(rows, name)
        if n == 0:
            why[name] = "no usable row carries it"
            continue
        if n < min_rows:
            why[name] = f"only {n} usable row(s) carry it (need >= {min_rows})"
            continue
        trial = kept + [name]
        a = _design(rows, trial)
        if np.linalg.matrix_rank(a, tol=1e-9 * max(1.0, float(np.abs(a).max()))) < len(trial):
            why[name] = f"collinear with {', '.join(kept)} on these rows (no variation to separate it)"
            continue
        kept.append(name)
    return kept, why


def _design(rows: Sequence[HostRow], params: Sequence[str]) -> np.ndarray:
    return np.array([[r.x(p) / r.measured_s for p in params] for r in rows], dtype=float).reshape(
        len(rows), len(params)
    )


def nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min ||a x - b|| subject to x >= 0, exactly, by trying every active set (few columns)."""
    m, n = a.shape
    best, best_cost = np.zeros(n), float(b @ b)
    for k in range(1, n + 1):
        for subset in itertools.combinations(range(n), k):
            cols = list(subset)
            sol, *_ = np.linalg.lstsq(a[:, cols], b, rcond=None)
            if np.any(sol < 0):
                continue
            x = np.zeros(n)
            x[cols] = sol
            r = a @ x - b
            cost = float(r @ r)
            if cost < best_cost - 1e-15 * max(1.0, best_cost):
                best, best_cost = x, cost
    return best


def fit_host(rows: Sequence[HostRow], candidates: Sequence[str] = PARAMETERS, min_rows: int = 2,
             predictor: Predictor | None = None) -> HostFit:
    """Non-negative least squares on relative error over the parameters the rows identify, refined
    on `predictor` when one is given."""
    params, why = identifiable(rows, candidates, min_rows)
    values: dict[str, float] = {}
    if params:
        a = _design(rows, params)
        b = np.array([(r.measured_s - r.device_s) / r.measured_s for r in rows])
        x = nnls(a, b)
        values = {p: float(v) for p, v in zip(params, x, strict=True)}
        if predictor is not None:
            values = _refine(rows, values, predictor)
    return HostFit(values, tuple(r.key for r in rows), why, predictor)


def _refine(rows: Sequence[HostRow], start: dict[str, float], predictor: Predictor) -> dict[str, float]:
    """Bounded (>= 0) least squares on relative error of `predictor`, from the linear solution;
    parameters are solved in microseconds so that the solver sees unit-scale variables."""
    from scipy.optimize import least_squares

    names = list(start)

    def residuals(x_us: np.ndarray) -> np.ndarray:
        values = {n: float(v) * 1e-6 for n, v in zip(names, x_us, strict=True)}
        return np.array([(predictor(r, values) - r.measured_s) / r.measured_s for r in rows])

    x0 = np.array([start[n] * 1e6 for n in names])
    solution = least_squares(residuals, x0, bounds=(0.0, np.inf), diff_step=1e-3)
    return {n: float(v) * 1e-6 for n, v in zip(names, solution.x, strict=True)}


@dataclass(frozen=True)
class LooRow:
    key: str
    measured_s: float
    predicted_s: float  # from a fit that did not see this row

    @property
    def error(self) -> float:
        return rel_error(self.predicted_s, self.measured_s)


def leave_one_out(rows: Sequence[HostRow], params: Sequence[str],
                  predictor: Predictor | None = None) -> list[LooRow]:
    """For each row: refit `params` on the others (a parameter no remaining row carries is left
    out of that refit) and predict the held-out row."""
    out = []
    for i, row in enumerate(rows):
        rest = [r for j, r in enumerate(rows) if j != i]
        fit = (fit_host(rest, params, min_rows=1, predictor=predictor) if rest
               else HostFit({}, (), {}, predictor))
        out.append(LooRow(row.key, row.measured_s, fit.predict(row)))
    return out


@dataclass(frozen=True)
class ParameterReport:
    name: str
    value_s: float | None  # None: not identifiable
    n_rows: int
    rows: tuple[str, ...]
    loo_median_abs_error: float | None
    loo_max_abs_error: float | None
    note: str = ""


@dataclass(frozen=True)
class RuntimeFit:
    fit: HostFit
    loo: list[LooRow]
    parameters: list[ParameterReport]
    in_sample: dict[str, float]  # row key -> relative error of the full fit
    validation: dict[str, float]  # row key -> relative error on held-out validation rows


def fit_runtime(
    fit_rows: Sequence[HostRow],
    validation_rows: Sequence[HostRow] = (),
    candidates: Sequence[str] = PARAMETERS,
    min_rows: int = 2,
    predictor: Predictor | None = None,
) -> RuntimeFit:
    """Fit, leave-one-out and validation of one runtime's host parameters."""
    fit = fit_host(fit_rows, candidates, min_rows, predictor)
    params = list(fit.values)
    loo = leave_one_out(fit_rows, params, predictor) if params else []
    by_key = {r.key: r for r in loo}
    reports = []
    for name in candidates:
        carrying = tuple(r.key for r in fit_rows if r.x(name) != 0)
        if name in fit.values:
            errs = np.abs([by_key[k].error for k in carrying])
            reports.append(
                ParameterReport(
                    name,
                    fit.values[name],
                    len(carrying),
                    carrying,
                    float(np.median(errs)),
                    float(np.max(errs)),
                )
            )
        elif carrying or name in fit.unidentified:
            reports.append(
                ParameterReport(
                    name, None, len(carrying), carrying, None, None, fit.unidentified.get(name, "")
                )
            )
    in_sample = {r.key: rel_error(fit.predict(r), r.measured_s) for r in fit_rows}
    validation = {r.key: rel_error(fit.predict(r), r.measured_s) for r in validation_rows}
    return RuntimeFit(fit, loo, reports, in_sample, validation)


def median_abs(errors) -> float | None:
    errors = list(errors)
    return float(np.median(np.abs(errors))) if errors else None


def host_block(entries: dict[str, dict], comment: str = "") -> str:
    """The YAML text of a top-level `host:` block with `entries` ({param: {value_s, source,
    fitted_by}}); `{}` when empty."""
    import yaml

    head = "".join(f"# {line}\n" for line in comment.splitlines() if line.strip())
    if not entries:
        return head + "host: {}\n"
    body = yaml.safe_dump({"host": entries}, sort_keys=False, default_flow_style=False, width=100)
    return head + body


def replace_host_block(text: str, block: str) -> str:
    """`text` (a runtime YAML) with its top-level `host:` block replaced by `block` (appended when
    absent). Lines before it, and the comments that lead into the next top-level key, are kept
    byte for byte."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("host:")), None)
    if start is None:
        head = text if text.endswith("\n") or not text else text + "\n"
        return head + block
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i][:1] not in (" ", "\t", "#", "\n", "\r", "") and lines[i].strip()
        ),
        len(lines),
    )
    while end > start + 1 and (lines[end - 1].startswith("#") or not lines[end - 1].strip()):
        end -= 1  # comments / blank lines just before the next key belong to it
    # our own leading comment from an earlier --write sits just above `host:`: replace it too
    while start > 0 and lines[start - 1].startswith("# host costs fitted by"):
        start -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])
