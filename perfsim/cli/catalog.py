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
    from perfsim.io.load import load_hardware, load_model, load_runtime

    kind = _kind_of(name)
    if kind == "hwprofiles":
        data = load_hardware(name).model_dump(mode="json")
    elif kind == "runtimes":
        data = load_runtime(name).model_dump(mode="json")
    else:
        model = load_model(name)
        counts = model_params(model)
        data = {**model.model_dump(mode="json", exclude_none=True),
                "derived": {"params": counts.total, "active_params": counts.active,
                            "sublayers": len(model.sublayers), "mixer_layers": model.num_mixer_layers}}
    if fmt is Format.json:
        typer.echo(json.dumps(data, indent=2))
    elif fmt is Format.csv:
        import pandas as pd

        typer.echo(pd.DataFrame(_flatten(data), columns=["field", "value"]).to_csv(index=False), nl=False)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False))


#: Top-level keys that only a hardware profile has.
_HARDWARE_KEYS = {"compute", "memory", "interconnect", "efficiency", "form_factor"}


def _kind_of(name: str) -> str:
    """'hwprofiles', 'runtimes' or 'models' for an id or a file (told apart by its keys), or one
    sentence: an unknown id, or a file that is none of the three."""
    from perfsim.io.catalog import list_ids
    from perfsim.io.safe_yaml import parse_json, parse_yaml, read_text

    for kind in ("hwprofiles", "runtimes", "models"):
        if name in list_ids(kind):
            return kind
    path = Path(name)
    if path.suffix not in (".yaml", ".yml", ".json") and not path.exists():
        fail(f"unknown id '{name}'; see `perfsim list hardware`, `perfsim list runtimes` and "
             f"`perfsim list models`, or give a YAML path.")
    text = read_text(path, "hardware, runtime or model file")
    data = parse_json(name, text) if path.suffix == ".json" else parse_yaml(name, text)
    if path.suffix == ".json" or {"operators", "transforms"} & set(data):
        return "models"
    if _HARDWARE_KEYS & set(data):
        return "hwprofiles"
    if _RUNTIME_KEYS & set(data) or data.get("base") in list_ids("runtimes"):
        return "runtimes"
    for kind in ("hwprofiles", "runtimes", "models"):
        if data.get("alias_of") in list_ids(kind):
            return kind
    fail(f"{name}: not a hardware profile (no {', '.join(sorted(_HARDWARE_KEYS))}), a runtime (no "
         f"{', '.join(sorted(_RUNTIME_KEYS))}) or a model (no operators or base and transforms).")


def import_hf_cmd(
    config: Path = typer.Argument(..., help="a Hugging Face config.json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write YAML here (default stdout)",
                                    callback=output_callback("--out")),
) -> None:
    """Convert a Hugging Face config.json into a perfsim model YAML."""
    import yaml

    from perfsim.io.hf_import import model_from_hf_config, model_to_yaml_dict
    from perfsim.io.safe_yaml import parse_json, read_text

    cfg = parse_json(str(config), read_text(config, "Hugging Face config.json"))
    text = yaml.safe_dump(model_to_yaml_dict(model_from_hf_config(cfg, str(config))), sort_keys=False)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text, nl=False)
