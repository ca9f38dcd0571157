"""`perfsim list`, `perfsim show` and `perfsim import-hf`: what is bundled and registered.

`list` reads the registries themselves (imported only for the kind asked), so a strategy,
workload, scheduler, router, pipeline, accuracy model, transform or op added as a module shows
up without an edit here.
"""

from __future__ import annotations

import importlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from perfsim.cli.options import formatted
from perfsim.cli.output import Format, emit_names, fail, output_callback


class Kind(StrEnum):
    hardware = "hardware"
    models = "models"
    runtimes = "runtimes"
    decodings = "decodings"
    workloads = "workloads"
    schedulers = "schedulers"
    routers = "routers"
    pipelines = "pipelines"
    accuracy = "accuracy"
    transforms = "transforms"
    ops = "ops"
    executors = "executors"


# kind -> (module, attribute path of a function returning {name: class}); catalog kinds read YAML
# folders instead
REGISTRIES: dict[Kind, tuple[str, str]] = {
    Kind.decodings: ("perfsim.decoding", "registered_decodings"),
    Kind.workloads: ("perfsim.sim.workloads", "registered_workloads"),
    Kind.schedulers: ("perfsim.sim.scheduler", "registered_schedulers"),
    Kind.routers: ("perfsim.sim.serving", "registered_routers"),
    Kind.pipelines: ("perfsim.rollout.pipelines", "registered_pipelines"),
    Kind.accuracy: ("perfsim.accuracy", "registered_accuracies"),
    Kind.transforms: ("perfsim.transforms.base", "TRANSFORMS.as_dict"),
    Kind.ops: ("perfsim.ops", "registered_ops"),
    Kind.executors: ("perfsim.explore.executors", "registered_executors"),
}
CATALOGS = {Kind.hardware: "hwprofiles", Kind.models: "models", Kind.runtimes: "runtimes"}
#: Top-level keys that only a runtime YAML has (how `show` tells a runtime file from a model file).
_RUNTIME_KEYS = {"kernels", "cuda_graphs", "scheduler", "host"}


def names(kind: Kind) -> list[str]:
    """Every id of a catalog kind, or every registered name of a registry kind, sorted."""
    from perfsim.io.catalog import list_ids

    if kind in CATALOGS:
        return list_ids(CATALOGS[kind])
    module_name, path = REGISTRIES[kind]
    registered: Any = importlib.import_module(module_name)
    for attribute in path.split("."):
        registered = getattr(registered, attribute)
    return sorted(registered())


@formatted
def list_cmd(kind: Kind = typer.Argument(..., help=f"one of: {', '.join(Kind)}"),
             fmt: Format = Format.table) -> None:
    """List bundled hardware, models or runtimes (plus $PERFSIM_PATH), or the names in a registry.

    Registries: decodings, workloads, schedulers, routers, pipelines, accuracy (models),
    transforms, ops, executors.
    """
    emit_names(names(kind), fmt)


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        return [row for key, value in data.items() for row in _flatten(value, f"{prefix}{key}.")]
    if isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        return [row for i, value in enumerate(data) for row in _flatten(value, f"{prefix}{i}.")]
    return [(prefix[:-1], data)]


@formatted
def show_cmd(name: str = typer.Argument(..., help="a hardware, runtime or model id, or a YAML path"),
             fmt: Format = Format.table) -> None:
    """Print a hardware profile, a runtime or a model description as YAML (models with derived figures).

    --format json prints JSON; csv prints field,value rows.
    """
    import yaml

    from perfsim.cost.params import model_params
    from perfsim.io.catalog import list_ids
    from perfsim.io.load import load_hardware, load_model, load_runtime

    if name in list_ids("hwprofiles"):
        data = load_hardware(name).model_dump(mode="json")
    elif name in list_ids("runtimes") or _is_runtime_file(name):
        data = load_runtime(name).model_dump(mode="json")
    elif name in list_ids("models") or Path(name).exists():
        model = load_model(name)
        counts = model_params(model)
        data = {**model.model_dump(mode="json", exclude_none=True),
                "derived": {"params": counts.total, "active_params": counts.active,
                            "sublayers": len(model.sublayers), "mixer_layers": model.num_mixer_layers}}
    else:
        fail(f"unknown id '{name}'; see `perfsim list hardware`, `perfsim list runtimes` and "
             f"`perfsim list models`.")
    if fmt is Format.json:
        typer.echo(json.dumps(data, indent=2))
    elif fmt is Format.csv:
        import pandas as pd

        typer.echo(pd.DataFrame(_flatten(data), columns=["field", "value"]).to_csv(index=False), nl=False)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False))


def _is_runtime_file(name: str) -> bool:
    """A YAML file whose keys are a runtime's (or whose `base:` is a bundled runtime id)."""
    from perfsim.io.catalog import list_ids

    path = Path(name)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError):
        return False  # the model loader reports the file in one sentence
    if not isinstance(data, dict):
        return False
    return bool(_RUNTIME_KEYS & set(data)) or data.get("base") in list_ids("runtimes")


def import_hf_cmd(
    config: Path = typer.Argument(..., help="a Hugging Face config.json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write YAML here (default stdout)",
                                    callback=output_callback("--out")),
) -> None:
    """Convert a Hugging Face config.json into a perfsim model YAML."""
    import yaml

    from perfsim.io.hf_import import model_from_hf_config, model_to_yaml_dict

    if not config.is_file():
        fail(f"{config}: file not found.")
    try:
        cfg = json.loads(config.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        fail(f"{config}: not a UTF-8 text file.")
    except json.JSONDecodeError as exc:
        fail(f"{config}: malformed JSON at line {exc.lineno}.")
    if not isinstance(cfg, dict):
        fail(f"{config}: a config.json must hold one JSON object (got {type(cfg).__name__}).")
    text = yaml.safe_dump(model_to_yaml_dict(model_from_hf_config(cfg, str(config))), sort_keys=False)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text, nl=False)
