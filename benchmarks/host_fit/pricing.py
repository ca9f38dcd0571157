"""perfsim's kernel-only price of one measured row (decode step, prefill or whole request)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import perfsim
from host_fit.rows import (
    GPUS,
    MODELS,
    Unpriceable,
    first_int,
    orin_nano_mode,
    role,
    runtime_id,
    source_id,
    weight_transforms,
)
from perfsim import Execution
from perfsim.calibration.host import HostRow
from perfsim.cost.graph import StepBatch
from perfsim.cost.launch import LaunchModel
from perfsim.errors import PerfsimInputError


@dataclass
class Priced:
    key: str
    runtime: str
    kind: str
    measured_s: float
    hw: object
    model: object
    graphs: bool
    base: Execution
    batch: int
    prompt: int
    output: int
    context: int
    serving: bool
    assumptions: list[str] = field(default_factory=list)

    def total_s(self, host: dict[str, float]) -> tuple[float, dict[str, float]]:
        """perfsim's seconds for this row with host costs `host` ({} = kernel-only, per-kernel 0),
        and the features (units of each host parameter) the row carries."""
        ex = Execution(
            **{
                **self.base.__dict__,
                "host_overhead_per_step_s": host.get("per_step", 0.0),
                "host_per_seq_per_step_s": host.get("per_seq_per_step", 0.0),
                "host_per_kernel_s": host.get("per_kernel_eager", 0.0 if not host else None),
                # not fitted here: the runtime's own (inherited through `base:`, or unset: per_kernel_eager)
                "host_per_kernel_ungraphed_s": host.get(
                    "per_kernel_ungraphed", 0.0 if not host else self.base.host_per_kernel_ungraphed_s
                ),
            }
        )
        feats = {"per_step": 1.0, "per_seq_per_step": float(self.batch)}
        launch = LaunchModel.of(self.hw, ex)
        prefill_graphed = launch.graphed(StepBatch(prefill_seqs=self.batch, prefill_tokens=self.prompt))
        decode_graphed = launch.graphed(StepBatch(decode_seqs=self.batch, decode_context=self.context))
        req = host.get("per_request", 0.0)
        if self.kind == "decode":
            step = perfsim.decode_step(
                self.model, self.hw, self.batch, self.context, execution=ex, runtime=None
            )
            t, kernels = step.latency_s, step.kernels
            ungraphed = 0.0 if decode_graphed else float(kernels)
        elif self.kind == "prefill":
            step = perfsim.prefill(self.model, self.hw, self.batch, self.prompt, execution=ex, runtime=None)
            t, kernels = step.latency_s + req * self.serving, step.kernels
            ungraphed = 0.0 if prefill_graphed else float(kernels)
            feats["per_request"] = float(self.serving)
        else:  # e2e seconds per output token of one request
            g = perfsim.generate(
                self.model, self.hw, self.batch, self.prompt, self.output, execution=ex, runtime=None
            )
            n = self.output
            t = (g.e2e_s + req * self.serving) / n
            kernels = (g.prefill.kernels + (n - 1) * g.decode.kernels) / n
            ungraphed = (
                (0 if prefill_graphed else g.prefill.kernels)
                + (0 if decode_graphed else (n - 1) * g.decode.kernels)
            ) / n
            feats["per_request"] = float(self.serving) / n
        if not self.graphs:
            feats["per_kernel_eager"] = float(kernels)
        elif ungraphed:  # steps above the runtime's CUDA-graph capture size launch every kernel
            feats["per_kernel_ungraphed"] = float(ungraphed)
        return t, feats


def price(i: int, r: dict) -> Priced:
    gpu = r["gpu"]
    hw_id, note = next(
        ((h, n) for pat, h, n in GPUS if re.search(pat, gpu)), (None, f"no hardware profile for '{gpu}'")
    )
    if hw_id is None:
        raise Unpriceable(note)
    assumptions = [note] if note else []
    if hw_id == "jetson-orin-nano-8gb":
        hw_id = orin_nano_mode(r["power_mode"])
    model_id, mnote = MODELS.get(r["model"], (None, ""))
    if model_id is None:
        raise Unpriceable(f"model '{r['model']}' is not bundled")
    if mnote:
        assumptions.append(mnote)
    transforms, wnote = weight_transforms(r["weights_dtype"])
    if wnote:
        assumptions.append(wnote)
    if r["kv_dtype"].startswith("fp8"):
        transforms.append({"name": "kv_cache_dtype", "dtype": "fp8"})
    model = perfsim.load_model(model_id)
    if transforms:
        model = perfsim.apply_transforms(model, transforms)
    hw = perfsim.load_hardware(hw_id)
    graphs = r["cuda_graphs"].lower().startswith("true")
    try:
        runtime = perfsim.load_runtime(runtime_id(r))
        base = Execution.of(runtime, hw, cuda_graphs=graphs, host_per_kernel_s=0.0)
    except (PerfsimInputError, FileNotFoundError, ValueError) as exc:
        base = Execution(cuda_graphs=graphs, host_per_kernel_s=0.0)
        assumptions.append(f"runtime kernels not applied ({str(exc)[:60]}...)")
    batch = first_int(r["batch"]) or first_int(r["concurrency"]) or 1
    metric, v = r["metric"], float(r["value"])
    inp, out = first_int(r["input_len"]), first_int(r["output_len"])
    serving = source_id(r["source_url"]) in ("S1", "S2", "S16")  # TTFT through an HTTP server
    if metric in ("tpot_ms", "itl_ms", "decode_step_ms", "itl_intercept_ms", "decode_tok_s"):
        # decode_tok_s is the aggregate over the batch: one step yields `batch` tokens
        kind, measured = "decode", (batch / v if metric == "decode_tok_s" else v / 1e3)
        if metric == "itl_intercept_ms":
            inp = 0
        if inp is None:
            inp = 128
            assumptions.append("prompt length not stated: 128 assumed")
        if out is None:
            out = 128
            assumptions.append("output length not stated: 128 assumed")
        elif r["input_len"].startswith("<="):
            assumptions.append(f"prompt length '{r['input_len']}': upper bound used")
    elif metric in ("ttft_ms", "ttft_p95_ms", "prefill_ms", "prefill_tok_s"):
        if inp is None:
            raise Unpriceable("prompt length not stated (prefill time depends on it)")
        kind = "prefill"
        if metric == "ttft_p95_ms":
            assumptions.append("TTFT p95 taken as the typical TTFT (no p50 published)")
        measured = inp / v if metric == "prefill_tok_s" else v / 1e3
    elif metric == "output_tok_s":
        if inp is None or out is None:
            raise Unpriceable("prompt or output length not stated (end-to-end rate includes prefill)")
        kind, measured = "e2e", 1.0 / v
    else:
        raise Unpriceable(f"metric '{metric}' is not a step time")
    context = max(1, inp + (out or 0) // 2)
    p = Priced(
        f"row{i + 1}",
        runtime_id(r),
        kind,
        measured,
        hw,
        model,
        graphs,
        base,
        batch,
        max(1, inp),
        out or 1,
        context,
        serving and kind != "decode",
        assumptions,
    )
    try:
        p.total_s({})
    except PerfsimInputError as exc:
        raise Unpriceable(f"perfsim refuses it: {exc}") from None
    return p


def host_row(p: Priced, source: str) -> HostRow:
    t, feats = p.total_s({})
    return HostRow(p.key, p.measured_s, t, feats, source)


def load_rows(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    fit, val, excluded = {}, {}, []
    for i, r in enumerate(rows):
        what, why = role(r)
        key, src = f"row{i + 1}", source_id(r["source_url"])
        if what == "exclude":
            excluded.append((key, runtime_id(r), src, r["metric"], why))
            continue
        try:
            p = price(i, r)
        except Unpriceable as exc:
            excluded.append((key, runtime_id(r), src, r["metric"], str(exc)))
            continue
        (fit if what == "fit" else val).setdefault(runtime_id(r), []).append((p, src))
    return rows, fit, val, excluded
