"""`perfsim` command line: data on stdout (table, JSON or CSV), messages on stderr.

Every PerfsimInputError becomes one sentence on stderr and exit status 2; no tracebacks.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
import yaml

from perfsim.cli.calibrate import calibrate_cmd, validate_cmd
from perfsim.cli.compare import compare_cmd
from perfsim.cli.dashboard import dashboard_cmd
from perfsim.cli.decoding import (
    OPT_ACCEPTANCE,
    OPT_BLOCK,
    OPT_DECODING,
    OPT_DRAFT,
    OPT_DRAFT_LEN,
    OPT_K,
    OPT_MEAN_ACCEPTED,
    OPT_NO_KV,
    OPT_STEPS_PER_BLOCK,
    OPT_SUB_BLOCK,
    OPT_TOKENS_PER_FORWARD,
    OPT_TOKENS_PER_STEP,
    OPT_TREE_WIDTH,
    decoding_strategy,
)
from perfsim.cli.output import Format, emit, fail
from perfsim.cli.rollout import rollout_cmd
from perfsim.cli.search import frontier_cmd, search_cmd, sweep_cmd
from perfsim.errors import PerfsimInputError
from perfsim.io.catalog import list_ids

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Predict LLM latency, throughput and memory on an accelerator.")


class Kind(StrEnum):
    hardware = "hardware"
    models = "models"


@app.command("list")
def list_cmd(kind: Kind = typer.Argument(..., help="hardware or models")) -> None:
    """List bundled hardware profiles or models (plus any on $PERFSIM_PATH)."""
    for name in list_ids("hwprofiles" if kind is Kind.hardware else "models"):
        typer.echo(name)


@app.command()
def show(name: str = typer.Argument(..., help="a hardware or model id, or a YAML path")) -> None:
    """Print a hardware profile or a model description as YAML, with derived figures."""
    from perfsim.cost.params import model_params
    from perfsim.io.load import load_hardware, load_model

    hw_ids, model_ids = list_ids("hwprofiles"), list_ids("models")
    if name in hw_ids:
        data = load_hardware(name).model_dump(mode="json")
    elif name in model_ids or Path(name).exists():
        model = load_model(name)
        counts = model_params(model)
        data = {**model.model_dump(mode="json", exclude_none=True),
                "derived": {"params": counts.total, "active_params": counts.active,
                            "sublayers": len(model.sublayers), "mixer_layers": model.num_mixer_layers}}
    else:
        fail(f"unknown id '{name}'; see `perfsim list hardware` and `perfsim list models`.")
    typer.echo(yaml.safe_dump(data, sort_keys=False))


@app.command()
def predict(
    model: str = typer.Option(..., "--model", "-m", help="model id or YAML/config.json path"),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    batch: int = typer.Option(1, help="sequences generated together"),
    prompt_len: int = typer.Option(1024, help="prompt tokens per sequence"),
    output_len: int = typer.Option(256, help="generated tokens per sequence"),
    tensor_parallel: int = typer.Option(1, "--tp", help="tensor-parallel GPUs"),
    eager: bool = typer.Option(False, help="eager launches instead of CUDA graphs"),
    breakdown: bool = typer.Option(False, help="print the per-kernel decode breakdown too"),
    decoding: str = OPT_DECODING, draft: str = OPT_DRAFT, k: int = OPT_K,
    acceptance: float | None = OPT_ACCEPTANCE, mean_accepted: float | None = OPT_MEAN_ACCEPTED,
    block_size: int = OPT_BLOCK, sub_block: int = OPT_SUB_BLOCK,
    tokens_per_step: float | None = OPT_TOKENS_PER_STEP,
    steps_per_block: int | None = OPT_STEPS_PER_BLOCK, no_kv_cache: bool = OPT_NO_KV,
    draft_len: int = OPT_DRAFT_LEN, tokens_per_forward: float | None = OPT_TOKENS_PER_FORWARD,
    tree_width: int = OPT_TREE_WIDTH,
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    as_json: bool = typer.Option(False, "--json", help="same as --format json"),
    as_csv: bool = typer.Option(False, "--csv", help="same as --format csv"),
) -> None:
    """TTFT, TPOT, end-to-end latency, throughput and memory for one batched request."""
    from perfsim.cost.graph import Execution
    from perfsim.cost.request import generate
    from perfsim.decoding import Autoregressive

    fmt = Format.json if as_json else Format.csv if as_csv else fmt
    execution = Execution(tensor_parallel=tensor_parallel, cuda_graphs=not eager)
    strategy = decoding_strategy(decoding, draft, k, acceptance, mean_accepted, block_size, sub_block,
                         tokens_per_step, steps_per_block, no_kv_cache, draft_len, tokens_per_forward,
                                 tree_width)
    result = generate(model, hardware, batch, prompt_len, output_len, strategy, execution=execution)
    row = {"model": model, "hardware": hardware, **result.to_dict()}
    if not isinstance(strategy, Autoregressive):
        ar = generate(model, hardware, batch, prompt_len, output_len, execution=execution)
        row["speedup_vs_ar"] = ar.e2e_s / result.e2e_s
    emit(pd.DataFrame([row]), fmt, "perfsim predict")
    if breakdown:
        emit(result.decode.breakdown, fmt, "decode step breakdown (mean context)")


def _lengths(text: str, field: str):
    from perfsim.sim.lengths import parse_length

    try:
        return parse_length(text, f"--{field}")
    except PerfsimInputError as exc:
        fail(str(exc))


class WorkloadKind(StrEnum):
    poisson = "poisson"
    gamma = "gamma"
    closed_loop = "closed_loop"
    trace = "trace"


@app.command()
def simulate(
    model: str = typer.Option(..., "--model", "-m", help="model id or YAML/config.json path"),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    workload: WorkloadKind = typer.Option(WorkloadKind.poisson, help="arrival process"),
    rate: float = typer.Option(5.0, help="requests/s (poisson, gamma)"),
    cv: float = typer.Option(2.0, help="gamma inter-arrival coefficient of variation"),
    concurrency: int = typer.Option(16, help="clients (closed_loop)"),
    trace_file: Path | None = typer.Option(None, "--trace", help="CSV: arrival_s, prompt_tokens, ..."),
    num_requests: int = typer.Option(1000, help="requests to simulate"),
    prompt_len: str = typer.Option("1024", help="N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or file:PATH"),
    output_len: str = typer.Option("256", help="N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or file:PATH"),
    replicas: int = typer.Option(1, help="model replicas behind the router"),
    router: str = typer.Option("round_robin", help="round_robin | least_outstanding"),
    tensor_parallel: int = typer.Option(1, "--tp", help="tensor-parallel GPUs per replica"),
    eager: bool = typer.Option(False, help="eager launches instead of CUDA graphs"),
    max_num_seqs: int | None = typer.Option(None, help="engine sequence limit (default: vLLM's)"),
    max_batched_tokens: int | None = typer.Option(None, help="tokens per iteration (default: vLLM's)"),
    no_chunked_prefill: bool = typer.Option(False, help="whole-prompt prefills"),
    scheduler: str = typer.Option("vllm", help="vllm | guaranteed_no_evict (TensorRT-LLM) | prefill_first"),
    gpu_memory_utilization: float = typer.Option(0.9, help="share of device memory the engine uses"),
    kv_cache_free_fraction: float | None = typer.Option(
        None, help="TensorRT-LLM's KV budget: share of the memory left free (replaces the above)"),
    step_overhead_s: float = typer.Option(0.0, help="engine CPU time per iteration not hidden by the GPU"),
    ttft_slo: float | None = typer.Option(None, help="TTFT SLO in seconds, for goodput"),
    tpot_slo: float | None = typer.Option(None, help="TPOT SLO in seconds, for goodput"),
    seed: int = typer.Option(0),
    chrome_trace: Path | None = typer.Option(None, help="write the iteration timeline here"),
    decoding: str = OPT_DECODING, draft: str = OPT_DRAFT, k: int = OPT_K,
    acceptance: float | None = OPT_ACCEPTANCE, mean_accepted: float | None = OPT_MEAN_ACCEPTED,
    block_size: int = OPT_BLOCK, sub_block: int = OPT_SUB_BLOCK,
    tokens_per_step: float | None = OPT_TOKENS_PER_STEP,
    steps_per_block: int | None = OPT_STEPS_PER_BLOCK, no_kv_cache: bool = OPT_NO_KV,
    draft_len: int = OPT_DRAFT_LEN, tokens_per_forward: float | None = OPT_TOKENS_PER_FORWARD,
    tree_width: int = OPT_TREE_WIDTH,
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Event-driven serving simulation: TTFT/TPOT/ITL percentiles, throughput, goodput, KV use."""
    from perfsim.cost.graph import Execution
    from perfsim.sim import EngineConfig, make_workload, simulate_serving

    strategy = decoding_strategy(decoding, draft, k, acceptance, mean_accepted, block_size, sub_block,
                         tokens_per_step, steps_per_block, no_kv_cache, draft_len, tokens_per_forward,
                                 tree_width)
    lengths = dict(prompt_len=_lengths(prompt_len, "prompt-len"),
                   output_len=_lengths(output_len, "output-len"))
    if workload is WorkloadKind.trace:
        if trace_file is None:
            fail("--workload trace needs --trace PATH.")
        load = make_workload("trace", path=trace_file)
    elif workload is WorkloadKind.closed_loop:
        load = make_workload("closed_loop", concurrency=concurrency, num_requests=num_requests, **lengths)
    elif workload is WorkloadKind.gamma:
        load = make_workload("gamma", rate=rate, cv=cv, num_requests=num_requests, **lengths)
    else:
        load = make_workload("poisson", rate=rate, num_requests=num_requests, **lengths)
    engine = EngineConfig(max_num_seqs=max_num_seqs, max_batched_tokens=max_batched_tokens,
                          chunked_prefill=not no_chunked_prefill, scheduler=scheduler,
                          gpu_memory_utilization=gpu_memory_utilization,
                          kv_cache_free_fraction=kv_cache_free_fraction, step_overhead_s=step_overhead_s)
    execution = Execution(tensor_parallel=tensor_parallel, cuda_graphs=not eager)
    result = _with_progress(load.num_requests, lambda progress: simulate_serving(
        model, hardware, load, engine, strategy, seed=seed, execution=execution, replicas=replicas,
        router=router, trace=chrome_trace is not None, progress=progress))
    summary = {**result.meta, **result.summary(ttft_slo, tpot_slo)}
    if chrome_trace is not None:
        result.to_chrome_trace(chrome_trace)
        typer.echo(f"wrote {chrome_trace}", err=True)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        frame = pd.DataFrame({"metric": list(summary), "value": list(summary.values())})
        emit(frame.astype({"value": object}), Format.table, "perfsim simulate")


def _with_progress(total: int, run):
    """A rich progress bar on stderr for runs long enough to want one."""
    if total < 2000:
        return run(None)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulating requests", total=total)
        return run(lambda done, _total: bar.update(task, completed=done))


@app.command()
def report(
    models: list[str] | None = typer.Option(None, "--model", "-m", help="repeat for several"),
    hardware: list[str] | None = typer.Option(None, "--hardware", "-h", help="repeat for several"),
    prompt_len: int = typer.Option(1024), output_len: int = typer.Option(256),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Headline what-if report: bundled models on H100, A10G and Jetson Orin (or your choice)."""
    from perfsim.explore.report import DEFAULT_HARDWARE, DEFAULT_MODELS, headline_report

    frame = headline_report(models or DEFAULT_MODELS, hardware or DEFAULT_HARDWARE,
                            prompt_len, output_len)
    emit(frame, fmt, f"perfsim headline report: prompt {prompt_len}, output {output_len}, bf16")


@app.command("import-hf")
def import_hf(
    config: Path = typer.Argument(..., help="a Hugging Face config.json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write YAML here (default stdout)"),
) -> None:
    """Convert a Hugging Face config.json into a perfsim model YAML."""
    from perfsim.io.hf_import import model_from_hf_config, model_to_yaml_dict

    if not config.is_file():
        fail(f"{config}: file not found.")
    try:
        cfg = json.loads(config.read_text())
    except json.JSONDecodeError as exc:
        fail(f"{config}: malformed JSON at line {exc.lineno}.")
    text = yaml.safe_dump(model_to_yaml_dict(model_from_hf_config(cfg, str(config))), sort_keys=False)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text, nl=False)


app.command("calibrate")(calibrate_cmd)
app.command("validate")(validate_cmd)
app.command("rollout")(rollout_cmd)
app.command("compare")(compare_cmd)
app.command("sweep")(sweep_cmd)
app.command("search")(search_cmd)
app.command("frontier")(frontier_cmd)
app.command("dashboard")(dashboard_cmd)


def main() -> None:
    """Entry point: run the app, turning input errors into one sentence and exit status 2."""
    try:
        status = app(standalone_mode=False)  # click returns typer.Exit's code in this mode
        if isinstance(status, int) and status:
            sys.exit(status)
    except PerfsimInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
