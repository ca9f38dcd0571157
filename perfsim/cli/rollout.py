"""`perfsim rollout`: simulate RL post-training steps (generation, training, weight sync)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from perfsim.cli.decoding import DecodingChoice, decoding_options
from perfsim.cli.options import bounded, formatted, runtime_option
from perfsim.cli.output import Format, emit, emit_summary, fail, output_callback, progress
from perfsim.io.limits import MAX_GPUS, MAX_REQUESTS, MAX_SEED, MAX_SIZE, MAX_STEPS, MAX_TENSOR_PARALLEL

_LENGTH_HELP = "N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or file:PATH"


def _acceptances(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        fail(f"--acceptance-by-step {text!r}: use comma-separated rates in (0, 1), e.g. 0.7,0.6,0.55.")


@decoding_options
@runtime_option
@formatted
def rollout_cmd(
    model: str = typer.Option(..., "--model", "-m", help="policy model id or YAML/config.json path"),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    config: Path | None = typer.Option(None, "--config", "-c", help="rollout settings YAML"),
    training_hardware: str | None = typer.Option(None, help="training pool hardware (default: --hardware)"),
    steps: int | None = bounded(None, "--steps", low=1, high=MAX_STEPS, help="RL steps to simulate [4]"),
    prompts: int | None = bounded(None, "--prompts", low=1, high=MAX_REQUESTS, help="prompts per step [64]"),
    samples: int | None = bounded(None, "--samples", low=1, high=MAX_REQUESTS,
                                  help="samples (rollouts) per prompt [8]"),
    prompt_len: str | None = typer.Option(None, help=f"prompt tokens: {_LENGTH_HELP} [512]"),
    output_len: str | None = typer.Option(None, help=f"natural output tokens: {_LENGTH_HELP}"),
    max_output_len: int | None = bounded(None, "--max-output-len", low=1, high=MAX_SIZE,
                                         help="RL length cap (truncates) [8192]"),
    length_drift: float | None = bounded(None, "--length-drift", low=-1, high=1,
                                         help="output-length change per step, e.g. -0.05"),
    pipeline: str | None = typer.Option(None, help="sync, async or partial (see `perfsim list pipelines`, "
                                                   "default: sync)"),
    partial_tokens: int | None = bounded(None, "--partial-tokens", low=1, high=MAX_SIZE,
                                         help="partial: tokens a rollout may add per step"),
    placement: str | None = typer.Option(None, help="colocated or disaggregated (default: colocated)"),
    gen_gpus: int | None = bounded(None, "--gen-gpus", low=1, high=MAX_GPUS, help="generation GPUs [8]"),
    train_gpus: int | None = bounded(None, "--train-gpus", low=1, high=MAX_GPUS, help="training GPUs [8]"),
    tensor_parallel: int | None = bounded(None, "--tp", low=1, high=MAX_TENSOR_PARALLEL,
                                          help="tensor parallelism per engine [1]"),
    training_mfu: float | None = bounded(None, "--training-mfu", low=0, high=1, above=True,
                                         help="training model-FLOPs utilisation [0.40]"),
    acceptance_by_step: str | None = typer.Option(None, help="speculative acceptance per step: 0.7,0.6"),
    seed: int = bounded(0, "--seed", low=0, high=MAX_SEED, help="random seed"),
    per_step: bool = typer.Option(False, "--per-step", help="print the per-step table too"),
    timeline: Path | None = typer.Option(None, help="write the phase timeline (CSV) here",
                                         callback=output_callback("--timeline")),
    chrome_trace: Path | None = typer.Option(None, help="write the timeline as a Chrome trace here",
                                             callback=output_callback("--chrome-trace")),
    fmt: Format = Format.table,
    decoding: DecodingChoice | None = None,
    runtime: str | None = None,
) -> None:
    """RL rollouts: step time split into generation / training / sync / idle, utilisation, tokens/s."""
    from perfsim.rollout import RolloutConfig, simulate_rollouts

    if per_step and fmt is Format.csv:
        fail("--per-step prints a second table; use --format table or json with it.")

    if config is not None:  # the one YAML door first: UTF-8, duplicate keys, nesting, finite numbers
        from perfsim.io.safe_yaml import parse_yaml, read_text

        parse_yaml(str(config), read_text(config, "rollout config"))
    base = RolloutConfig.from_yaml(config) if config is not None else RolloutConfig()
    by_step = _acceptances(acceptance_by_step)
    overrides: dict[str, Any] = {
        "steps": steps, "prompts_per_step": prompts, "samples_per_prompt": samples,
        "prompt_len": prompt_len, "output_len": output_len, "max_output_len": max_output_len,
        "length_drift_per_step": length_drift, "pipeline": pipeline,
        "partial_rollout_tokens": partial_tokens, "placement": placement, "generation_gpus": gen_gpus,
        "training_gpus": train_gpus, "tensor_parallel": tensor_parallel, "training_mfu": training_mfu,
        "acceptance_by_step": by_step,
    }
    assert decoding is not None  # supplied by @decoding_options
    if decoding.given:  # otherwise the config's decoding (autoregressive by default)
        # the schedule sets every step's rate; its first entry stands in for a missing --acceptance
        fallback = {"acceptance": by_step[0]} if by_step else {}
        overrides["decoding"] = decoding.strategy(fallback, unless=("mean_accepted_tokens",))
    fields = {name: getattr(base, name) for name in RolloutConfig.model_fields}
    cfg = RolloutConfig(**{**fields, **{k_: v for k_, v in overrides.items() if v is not None}})

    with progress("simulating RL steps", cfg.steps) as bar:
        result = simulate_rollouts(model, hardware, cfg, seed=seed, training_hardware=training_hardware,
                                   progress=bar.on_update, runtime=runtime)
    meta = {key: value for key, value in result.meta.items() if key != "pool_gpus"}
    summary = {**meta, **result.summary()}
    for path, write in ((timeline, lambda p: result.timeline.to_csv(p, index=False)),
                        (chrome_trace, result.to_chrome_trace)):
        if path is not None:
            write(path)
            typer.echo(f"wrote {path}", err=True)
    columns = ["step", "step_s", "generation_s", "logprob_s", "update_s", "sync_s", "rollouts_trained",
               "carried_over", "generated_tokens", "truncated", "preemptions"]
    if result.steps.acceptance.notna().any():
        columns.append("acceptance")
    if per_step and fmt is Format.json:  # one JSON document on stdout
        summary["per_step"] = result.steps[columns].to_dict(orient="records")
    emit_summary(summary, fmt, "perfsim rollout")
    if per_step and fmt is Format.table:
        emit(result.steps[columns], fmt, "per step")
