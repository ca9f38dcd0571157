"""`perfsim predict`, `perfsim simulate` and `perfsim report`: one request, a serving run, the
headline table.

Workloads, schedulers and routers are looked up in perfsim.sim's registries when the command
runs, so a newly registered one is usable here without an edit, and `--help` stays light.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from perfsim.cli.decoding import DecodingChoice, decoding_options
from perfsim.cli.options import bounded, expert_options, formatted, runtime_option
from perfsim.cli.output import Format, emit, emit_summary, output_callback, progress
from perfsim.errors import PerfsimInputError
from perfsim.io.limits import (
    MAX_BATCH,
    MAX_BATCHED_TOKENS,
    MAX_REPLICAS,
    MAX_REQUESTS,
    MAX_SEED,
    MAX_SEQS,
    MAX_SIZE,
    MAX_TENSOR_PARALLEL,
)

MODEL_HELP = "model id or YAML/config.json path"
LENGTH_HELP = "N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or file:PATH"
# workload dataclass field -> the simulate option that sets it
WORKLOAD_FLAGS = {"rate": "--rate", "cv": "--cv", "concurrency": "--concurrency",
                  "num_requests": "--num-requests", "prompt_len": "--prompt-len",
                  "output_len": "--output-len", "path": "--trace PATH", "client_start": "--client-start",
                  "ramp_s": "--ramp-s", "warmup_requests": "--warmup-requests"}
#: Options that default to "not given" and belong to some workloads only (benchmark clients).
CLIENT_FLAGS = ("client_start", "ramp_s", "warmup_requests")


@decoding_options
@expert_options
@runtime_option
@formatted
def predict_cmd(
    model: str = typer.Option(..., "--model", "-m", help=MODEL_HELP),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    batch: int = bounded(1, "--batch", low=1, high=MAX_BATCH, help="sequences generated together"),
    prompt_len: int = bounded(1024, "--prompt-len", low=1, high=MAX_SIZE,
                              help="prompt tokens per sequence"),
    output_len: int = bounded(256, "--output-len", low=1, high=MAX_SIZE,
                              help="generated tokens per sequence"),
    tensor_parallel: int = bounded(1, "--tp", low=1, high=MAX_TENSOR_PARALLEL, help="tensor-parallel GPUs"),
    eager: bool = typer.Option(False, help="eager launches instead of CUDA graphs"),
    breakdown: bool = typer.Option(False, help="print the per-kernel decode breakdown too"),
    fmt: Format = Format.table,
    decoding: DecodingChoice | None = None,
    runtime: str | None = None,
    experts: dict[str, Any] | None = None,
) -> None:
    """TTFT, TPOT, end-to-end latency, throughput and memory for one batched request."""
    import pandas as pd

    from perfsim.cost.request import generate
    from perfsim.decoding import Autoregressive
    from perfsim.spec.deployment import Execution

    assert decoding is not None  # supplied by @decoding_options
    execution = Execution(tensor_parallel=tensor_parallel, cuda_graphs=not eager, **(experts or {}))
    strategy = decoding.strategy()
    result = generate(model, hardware, batch, prompt_len, output_len, strategy, execution=execution,
                      runtime=runtime)
    row = {"model": model, "hardware": hardware, **({"runtime": runtime} if runtime else {}),
           **result.to_dict()}
    if result.memory.assumed:
        typer.echo(f"memory and TTFT assume {result.memory.assumed}.", err=True)
    if not isinstance(strategy, Autoregressive):
        ar = generate(model, hardware, batch, prompt_len, output_len, execution=execution, runtime=runtime)
        row["speedup_vs_ar"] = ar.e2e_s / result.e2e_s
    emit(pd.DataFrame([row]), fmt, "perfsim predict")
    if breakdown:
        emit(result.decode.breakdown, fmt, "decode step breakdown (mean context)")


def make_workload_from_options(name: str, values: dict[str, Any]):
    """The registered workload `name`, built from the simulate options that match its fields."""
    from perfsim.sim import make_workload, registered_workloads

    classes = registered_workloads()
    if name not in classes:
        raise PerfsimInputError(f"--workload {name!r} is unknown; allowed: {', '.join(sorted(classes))}.")
    fields = {f.name for f in dataclasses.fields(classes[name])}  # type: ignore[arg-type]
    unused = [WORKLOAD_FLAGS[k] for k in CLIENT_FLAGS if values.get(k) is not None and k not in fields]
    if unused:  # never accept an option that would be silently ignored
        verb = "applies" if len(unused) == 1 else "apply"
        raise PerfsimInputError(f"{', '.join(unused)} {verb} only to the closed_loop benchmark clients, "
                                f"not to --workload {name}.")
    params = {}
    for field in dataclasses.fields(classes[name]):  # type: ignore[arg-type]  # workloads are dataclasses
        if not field.init:
            continue
        if values.get(field.name) is not None:
            params[field.name] = values[field.name]
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            if field.name in WORKLOAD_FLAGS:
                raise PerfsimInputError(f"--workload {name} needs {WORKLOAD_FLAGS[field.name]}.")
            raise PerfsimInputError(f"--workload {name} cannot be built from the command line (it needs "
                                    f"{field.name}); use the Python API (perfsim.sim.make_workload).")
    return make_workload(name, **params)


@decoding_options
@expert_options
@runtime_option
@formatted
def simulate_cmd(
    model: str = typer.Option(..., "--model", "-m", help=MODEL_HELP),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    workload: str = typer.Option("poisson", help="arrival process (see `perfsim list workloads`)"),
    rate: float = bounded(5.0, "--rate", low=0, high=1e6, above=True, help="requests/s (poisson, gamma)"),
    cv: float = bounded(2.0, "--cv", low=0, high=100, above=True,
                        help="gamma inter-arrival coefficient of variation"),
    concurrency: int = bounded(16, "--concurrency", low=1, high=MAX_REQUESTS, help="clients (closed_loop)"),
    client_start: str | None = typer.Option(
        None, help="closed_loop clients start in a burst at t=0 (vLLM bench, genai-perf) or staggered "
                   "over --ramp-s (AIPerf --concurrency-ramp-duration)"),
    ramp_s: float | None = bounded(None, "--ramp-s", low=0, high=1e6,
                                   help="seconds over which staggered clients start"),
    warmup_requests: int | None = bounded(
        None, "--warmup-requests", low=0, high=MAX_REQUESTS,
        help="first requests run as an unmeasured warm-up, counted in --num-requests (closed_loop)"),
    trace_file: Path | None = typer.Option(None, "--trace", help="CSV: arrival_s, prompt_tokens, ..."),
    num_requests: int = bounded(1000, "--num-requests", low=1, high=MAX_REQUESTS,
                                help="requests to simulate"),
    prompt_len: str = typer.Option("1024", help=LENGTH_HELP),
    output_len: str = typer.Option("256", help=LENGTH_HELP),
    replicas: int = bounded(1, "--replicas", low=1, high=MAX_REPLICAS,
                            help="model replicas behind the router"),
    router: str = typer.Option("round_robin", help="request router (see `perfsim list routers`)"),
    tensor_parallel: int = bounded(1, "--tp", low=1, high=MAX_TENSOR_PARALLEL,
                                   help="tensor-parallel GPUs per replica"),
    eager: bool = typer.Option(False, help="eager launches instead of CUDA graphs"),
    max_num_seqs: int | None = bounded(None, "--max-num-seqs", low=1, high=MAX_SEQS,
                                       help="engine sequence limit (default: vLLM's)"),
    max_batched_tokens: int | None = bounded(None, "--max-batched-tokens", low=1, high=MAX_BATCHED_TOKENS,
                                             help="tokens per iteration (default: vLLM's)"),
    no_chunked_prefill: bool = typer.Option(False, help="whole-prompt prefills"),
    scheduler: str = typer.Option("vllm", help="vllm, guaranteed_no_evict (TensorRT-LLM), prefill_first "
                                               "(see `perfsim list schedulers`)"),
    gpu_memory_utilization: float = bounded(0.9, "--gpu-memory-utilization", low=0, high=1, above=True,
                                            help="share of device memory the engine uses"),
    kv_cache_free_fraction: float | None = bounded(
        None, "--kv-cache-free-fraction", low=0, high=1, above=True,
        help="TensorRT-LLM's KV budget: share of the memory left free (replaces the above)"),
    step_overhead_s: float = bounded(0.0, "--step-overhead-s", low=0, high=10,
                                     help="engine CPU time per iteration not hidden by the GPU"),
    api_server_s: float | None = bounded(None, "--api-server-s", low=0, high=10,
                                  help="API-server host time per request before the engine sees it "
                                       "(default: the runtime's host.per_request)"),
    ttft_slo: float | None = bounded(None, "--ttft-slo", low=0, high=1e6, above=True,
                                     help="TTFT SLO in seconds, for goodput"),
    tpot_slo: float | None = bounded(None, "--tpot-slo", low=0, high=1e6, above=True,
                                     help="TPOT SLO in seconds, for goodput"),
    seed: int = bounded(0, "--seed", low=0, high=MAX_SEED, help="random seed"),
    chrome_trace: Path | None = typer.Option(None, help="write the iteration timeline here",
                                             callback=output_callback("--chrome-trace")),
    fmt: Format = Format.table,
    decoding: DecodingChoice | None = None,
    runtime: str | None = None,
    experts: dict[str, Any] | None = None,
) -> None:
    """Event-driven serving simulation: TTFT/TPOT/ITL percentiles, throughput, goodput, KV use."""
    from perfsim.sim import EngineConfig, simulate_serving
    from perfsim.sim.lengths import parse_length
    from perfsim.spec.deployment import Execution

    assert decoding is not None  # supplied by @decoding_options
    if trace_file is not None:  # missing, a folder, empty or not UTF-8: one sentence before the run
        from perfsim.io.safe_yaml import read_text

        read_text(trace_file, "trace CSV")
    strategy = decoding.strategy()
    values = dict(rate=rate, cv=cv, concurrency=concurrency, num_requests=num_requests, path=trace_file,
                  client_start=client_start, ramp_s=ramp_s, warmup_requests=warmup_requests,
                  prompt_len=parse_length(prompt_len, "--prompt-len"),
                  output_len=parse_length(output_len, "--output-len"))
    load = make_workload_from_options(workload, values)
    engine = EngineConfig(max_num_seqs=max_num_seqs, max_batched_tokens=max_batched_tokens,
                          chunked_prefill=not no_chunked_prefill, scheduler=scheduler,
                          gpu_memory_utilization=gpu_memory_utilization,
                          kv_cache_free_fraction=kv_cache_free_fraction, step_overhead_s=step_overhead_s,
                          api_server_s=api_server_s)
    execution = Execution(tensor_parallel=tensor_parallel, cuda_graphs=not eager, **(experts or {}))
    with progress("simulating requests", load.num_requests, enabled=load.num_requests >= 2000) as bar:
        result = simulate_serving(model, hardware, load, engine, strategy, seed=seed, execution=execution,
                                  replicas=replicas, router=router, trace=chrome_trace is not None,
                                  progress=bar.on_update, runtime=runtime)
    summary = {**result.meta, **result.summary(ttft_slo, tpot_slo)}
    if chrome_trace is not None:
        result.to_chrome_trace(chrome_trace)
        typer.echo(f"wrote {chrome_trace}", err=True)
    emit_summary(summary, fmt, "perfsim simulate")


@formatted
@runtime_option
def report_cmd(
    models: list[str] | None = typer.Option(None, "--model", "-m", help="repeat for several"),
    hardware: list[str] | None = typer.Option(None, "--hardware", "-h", help="repeat for several"),
    prompt_len: int = bounded(1024, "--prompt-len", low=1, high=MAX_SIZE),
    output_len: int = bounded(256, "--output-len", low=1, high=MAX_SIZE),
    fmt: Format = Format.table,
    runtime: str | None = None,
) -> None:
    """Headline what-if report: bundled models on H100, A10G and Jetson Orin (or your choice)."""
    from perfsim.explore.report import DEFAULT_HARDWARE, DEFAULT_MODELS, headline_report

    frame = headline_report(models or DEFAULT_MODELS, hardware or DEFAULT_HARDWARE,
                            prompt_len, output_len, runtime=runtime)
    under = f", runtime {runtime}" if runtime else ", no runtime (kernel physics only)"
    emit(frame, fmt, f"perfsim headline report: prompt {prompt_len}, output {output_len}, bf16{under}")
