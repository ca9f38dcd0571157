"""`perfsim compare BASE VARIANT`: what a model change buys on a device."""

from __future__ import annotations

import re
from typing import Any

import typer

from perfsim.cli.options import expert_options, formatted, runtime_option
from perfsim.cli.output import Format, emit, fail

_SUFFIX = {"": 1, "k": 1024}


def _tokens(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kK]?)\s*", text)
    if not match:
        fail(f"--workload {text!r}: use PROMPT/OUTPUT token counts such as 4096/4096 or 64k/64k.")
    return int(match.group(1)) * _SUFFIX[match.group(2).lower()]


@expert_options
@runtime_option
@formatted
def compare_cmd(
    base: str = typer.Argument(..., help="base model id or YAML/config.json path"),
    variant: str = typer.Argument(..., help="variant model id or YAML path (e.g. a base + transforms file)"),
    hardware: str = typer.Option(..., "--hardware", "-h", help="hardware id or YAML path"),
    workload: str = typer.Option("1024/1024", help="PROMPT/OUTPUT tokens per request, e.g. 64k/64k"),
    variant_output_len: int | None = typer.Option(
        None, help="tokens per request the variant writes, when it differs (request-level rows)"),
    batch: int | None = typer.Option(None, help="batch for the throughput rows (default: best that fits)"),
    tensor_parallel: int = typer.Option(1, "--tp", help="tensor-parallel GPUs"),
    weight_dtype: str | None = typer.Option(None,
                                            help="serve both models with these weights (e.g. fp8, fp4)"),
    activation_dtype: str | None = typer.Option(None, help="serve both with these activations (fp8: W8A8)"),
    fmt: Format = Format.table,
    runtime: str | None = None,
    experts: dict[str, Any] | None = None,
) -> None:
    """Speed-ups per token and per request, memory and max batch of VARIANT against BASE."""
    from perfsim.explore.compare import compare
    from perfsim.io.load import apply_transforms
    from perfsim.spec.deployment import Execution
    from perfsim.transforms import ActivationDType, WeightDType

    if "/" not in workload:
        fail(f"--workload {workload!r}: use PROMPT/OUTPUT token counts such as 4096/4096 or 64k/64k.")
    prompt, output = (_tokens(part) for part in workload.split("/", 1))
    if prompt < 1 or output < 1:
        fail(f"--workload {workload!r}: both token counts must be >= 1.")
    serving = [t for t in (weight_dtype and WeightDType(weight_dtype),
                           activation_dtype and ActivationDType(activation_dtype)) if t]
    models: tuple[Any, Any] = (base, variant)
    if serving:  # a deployment choice for both models, not part of the architecture change
        models = (apply_transforms(base, serving, id=base, display_name=base),
                  apply_transforms(variant, serving, id=variant, display_name=variant))
    frame = compare(*models, hardware, prompt_len=prompt, output_len=output,
                    variant_output_len=variant_output_len, batch=batch,
                    execution=Execution(tensor_parallel=tensor_parallel, **(experts or {})),
                    runtime=runtime)
    emit(frame, fmt, f"perfsim compare on {hardware}: prompt {prompt}, output {output}"
         + (f" (variant {variant_output_len})" if variant_output_len else "") + f", TP {tensor_parallel}"
         + (f" EP {experts['expert_parallel']}" if experts and experts["expert_parallel"] > 1 else "")
         + (f", runtime {runtime}" if runtime else ""))
