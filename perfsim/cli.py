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

from perfsim.catalog import list_ids
from perfsim.errors import PerfsimInputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Predict LLM latency, throughput and memory on an accelerator.")


class Kind(StrEnum):
    hardware = "hardware"
    models = "models"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _emit(frame: pd.DataFrame, fmt: Format, title: str = "") -> None:
    if fmt is Format.json:
        typer.echo(frame.to_json(orient="records", indent=2))
    elif fmt is Format.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title or None)
        for col in frame.columns:
            table.add_column(str(col), justify="right" if frame[col].dtype.kind in "fi" else "left")
        for _, row in frame.iterrows():
            table.add_row(*[_cell(v) for v in row])
        Console(file=sys.stdout, width=200).print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:,.4g}"  # NaN: not applicable (does not fit)
    return str(value)


@app.command("list")
def list_cmd(kind: Kind = typer.Argument(..., help="hardware or models")) -> None:
    """List bundled hardware profiles or models (plus any on $PERFSIM_PATH)."""
    for name in list_ids("hwprofiles" if kind is Kind.hardware else "models"):
        typer.echo(name)


@app.command()
def show(name: str = typer.Argument(..., help="a hardware or model id, or a YAML path")) -> None:
    """Print a hardware profile or a model description as YAML, with derived figures."""
    from perfsim.load import load_hardware, load_model
    from perfsim.params import model_params

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
        _fail(f"unknown id '{name}'; see `perfsim list hardware` and `perfsim list models`.")
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
    decoding: str = typer.Option("autoregressive", help="autoregressive | speculative | mtp | eagle | "
                                 "diffusion | tidar"),
    draft: str = typer.Option("eagle", help="speculative drafter: a model id, eagle or mtp"),
    k: int = typer.Option(4, "--k", help="speculative draft length"),
    acceptance: float | None = typer.Option(None, help="per-token draft acceptance rate"),
    mean_accepted: float | None = typer.Option(None, help="measured tokens per verify step"),
    block_size: int = typer.Option(32, help="diffusion block size"),
    sub_block: int = typer.Option(8, help="diffusion sub-block size (query tokens per forward)"),
    tokens_per_step: float | None = typer.Option(None, help="diffusion tokens finalised per step"),
    steps_per_block: int | None = typer.Option(None, help="diffusion denoising steps per block"),
    no_kv_cache: bool = typer.Option(False, help="diffusion: recompute the whole sequence each step"),
    draft_len: int = typer.Option(16, help="TiDAR draft length"),
    tokens_per_forward: float | None = typer.Option(None, help="TiDAR tokens per forward (T/NFE)"),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    as_json: bool = typer.Option(False, "--json", help="same as --format json"),
    as_csv: bool = typer.Option(False, "--csv", help="same as --format csv"),
) -> None:
    """TTFT, TPOT, end-to-end latency, throughput and memory for one batched request."""
    from perfsim.decoding import Autoregressive, BlockDiffusion, Speculative, TiDAR, make_decoding
    from perfsim.graph import Execution
    from perfsim.request import generate

    fmt = Format.json if as_json else Format.csv if as_csv else fmt
    execution = Execution(tensor_parallel=tensor_parallel, cuda_graphs=not eager)
    if decoding in ("speculative", "mtp", "eagle"):
        strategy = Speculative(k=k, acceptance=acceptance, mean_accepted_tokens=mean_accepted,
                               draft=decoding if decoding != "speculative" else draft)
    elif decoding in ("diffusion", "block_diffusion"):
        strategy = BlockDiffusion(block_size=block_size, sub_block_size=sub_block,
                                  tokens_per_step=tokens_per_step, steps_per_block=steps_per_block,
                                  kv_cache=not no_kv_cache)
    elif decoding == "tidar":
        if tokens_per_forward is None:
            _fail("--decoding tidar needs --tokens-per-forward (the measured T/NFE).")
        strategy = TiDAR(draft_len=draft_len, tokens_per_forward=tokens_per_forward)
    else:
        strategy = make_decoding(decoding)
    result = generate(model, hardware, batch, prompt_len, output_len, strategy, execution=execution)
    row = {"model": model, "hardware": hardware, **result.to_dict()}
    if not isinstance(strategy, Autoregressive):
        ar = generate(model, hardware, batch, prompt_len, output_len, execution=execution)
        row["speedup_vs_ar"] = ar.e2e_s / result.e2e_s
    _emit(pd.DataFrame([row]), fmt, "perfsim predict")
    if breakdown:
        _emit(result.decode.breakdown, fmt, "decode step breakdown (mean context)")


@app.command()
def report(
    models: list[str] | None = typer.Option(None, "--model", "-m", help="repeat for several"),
    hardware: list[str] | None = typer.Option(None, "--hardware", "-h", help="repeat for several"),
    prompt_len: int = typer.Option(1024), output_len: int = typer.Option(256),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Headline what-if report: bundled models on H100, A10G and Jetson Orin (or your choice)."""
    from perfsim.report import DEFAULT_HARDWARE, DEFAULT_MODELS, headline_report

    frame = headline_report(models or DEFAULT_MODELS, hardware or DEFAULT_HARDWARE,
                            prompt_len, output_len)
    _emit(frame, fmt, f"perfsim headline report: prompt {prompt_len}, output {output_len}, bf16")


@app.command("import-hf")
def import_hf(
    config: Path = typer.Argument(..., help="a Hugging Face config.json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write YAML here (default stdout)"),
) -> None:
    """Convert a Hugging Face config.json into a perfsim model YAML."""
    from perfsim.hf_import import model_from_hf_config, model_to_yaml_dict

    if not config.is_file():
        _fail(f"{config}: file not found.")
    try:
        cfg = json.loads(config.read_text())
    except json.JSONDecodeError as exc:
        _fail(f"{config}: malformed JSON at line {exc.lineno}.")
    text = yaml.safe_dump(model_to_yaml_dict(model_from_hf_config(cfg, str(config))), sort_keys=False)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text, nl=False)


def main() -> None:
    """Entry point: run the app, turning input errors into one sentence and exit status 2."""
    try:
        app(standalone_mode=False)
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
