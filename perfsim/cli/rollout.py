"""`perfsim rollout`: simulate RL post-training steps (generation, training, weight sync)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from perfsim.cli.decoding import (
    OPT_ACCEPTANCE,
    OPT_BLOCK,
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

_LENGTH_HELP = "N, LOW-HIGH, lognormal:MEAN:SIGMA:MAX or file:PATH"


def _acceptances(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        fail(f"--acceptance-by-step {text!r}: use comma-separated rates in (0, 1), e.g. 0.7,0.6,0.55.")


def rollout_cmd(
    model: str = typer.Option(..., "--model", "-m", help="policy model id or YAML/config.json path"),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    config: Path | None = typer.Option(None, "--config", "-c", help="rollout settings YAML"),
    training_hardware: str | None = typer.Option(None, help="training pool hardware (default: --hardware)"),
    steps: int | None = typer.Option(None, help="RL steps to simulate [4]"),
    prompts: int | None = typer.Option(None, "--prompts", help="prompts per step [64]"),
    samples: int | None = typer.Option(None, "--samples", help="samples (rollouts) per prompt [8]"),
    prompt_len: str | None = typer.Option(None, help=f"prompt tokens: {_LENGTH_HELP} [512]"),
    output_len: str | None = typer.Option(None, help=f"natural output tokens: {_LENGTH_HELP}"),
    max_output_len: int | None = typer.Option(None, help="RL length cap (truncates) [8192]"),
    length_drift: float | None = typer.Option(None, help="output-length change per step, e.g. -0.05"),
    pipeline: str | None = typer.Option(None, help="sync | async | partial [sync]"),
    partial_tokens: int | None = typer.Option(None, help="partial: tokens a rollout may add per step"),
    placement: str | None = typer.Option(None, help="colocated | disaggregated [colocated]"),
    gen_gpus: int | None = typer.Option(None, help="generation GPUs [8]"),
    train_gpus: int | None = typer.Option(None, help="training GPUs [8]"),
    tensor_parallel: int | None = typer.Option(None, "--tp", help="tensor parallelism per engine [1]"),
    training_mfu: float | None = typer.Option(None, help="training model-FLOPs utilisation [0.40]"),
    decoding: str | None = typer.Option(None, help="autoregressive | speculative | mtp | eagle | "
                                                   "diffusion | tidar [autoregressive]"),
    draft: str = OPT_DRAFT, k: int = OPT_K,
    acceptance: float | None = OPT_ACCEPTANCE, mean_accepted: float | None = OPT_MEAN_ACCEPTED,
    acceptance_by_step: str | None = typer.Option(None, help="speculative acceptance per step: 0.7,0.6"),
    block_size: int = OPT_BLOCK, sub_block: int = OPT_SUB_BLOCK,
    tokens_per_step: float | None = OPT_TOKENS_PER_STEP,
    steps_per_block: int | None = OPT_STEPS_PER_BLOCK, no_kv_cache: bool = OPT_NO_KV,
    draft_len: int = OPT_DRAFT_LEN, tokens_per_forward: float | None = OPT_TOKENS_PER_FORWARD,
    tree_width: int = OPT_TREE_WIDTH,
    seed: int = typer.Option(0),
    per_step: bool = typer.Option(False, "--per-step", help="print the per-step table too"),
    timeline: Path | None = typer.Option(None, help="write the phase timeline (CSV) here"),
    chrome_trace: Path | None = typer.Option(None, help="write the timeline as a Chrome trace here"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """RL rollouts: step time split into generation / training / sync / idle, utilisation, tokens/s."""
    from perfsim.rollout import RolloutConfig, simulate_rollouts

    base = RolloutConfig.from_yaml(config) if config is not None else RolloutConfig()
    overrides = {
        "steps": steps, "prompts_per_step": prompts, "samples_per_prompt": samples,
        "prompt_len": prompt_len, "output_len": output_len, "max_output_len": max_output_len,
        "length_drift_per_step": length_drift, "pipeline": pipeline,
        "partial_rollout_tokens": partial_tokens, "placement": placement, "generation_gpus": gen_gpus,
        "training_gpus": train_gpus, "tensor_parallel": tensor_parallel, "training_mfu": training_mfu,
        "acceptance_by_step": _acceptances(acceptance_by_step),
    }
    by_step = overrides["acceptance_by_step"]
    if by_step and acceptance is None and mean_accepted is None:
        acceptance = by_step[0]  # the schedule sets every step's rate
    if decoding is not None:
        overrides["decoding"] = decoding_strategy(
            decoding, draft, k, acceptance, mean_accepted, block_size, sub_block, tokens_per_step,
            steps_per_block, no_kv_cache, draft_len, tokens_per_forward, tree_width)
    fields = {name: getattr(base, name) for name in RolloutConfig.model_fields}
    cfg = RolloutConfig(**{**fields, **{k_: v for k_, v in overrides.items() if v is not None}})

    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulating RL steps", total=cfg.steps)
        result = simulate_rollouts(model, hardware, cfg, seed=seed, training_hardware=training_hardware,
                                   progress=lambda done, _total: bar.update(task, completed=done))
    meta = {key: value for key, value in result.meta.items() if key != "pool_gpus"}
    summary = {**meta, **result.summary()}
    for path, write in ((timeline, lambda p: result.timeline.to_csv(p, index=False)),
                        (chrome_trace, result.to_chrome_trace)):
        if path is not None:
            write(path)
            typer.echo(f"wrote {path}", err=True)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    frame = pd.DataFrame({"metric": list(summary), "value": list(summary.values())})
    emit(frame.astype({"value": object}), Format.table, "perfsim rollout")
    if per_step:
        columns = ["step", "step_s", "generation_s", "logprob_s", "update_s", "sync_s", "rollouts_trained",
                   "carried_over", "generated_tokens", "truncated", "preemptions"]
        if result.steps.acceptance.notna().any():
            columns.append("acceptance")
        emit(result.steps[columns], Format.table, "per step")
