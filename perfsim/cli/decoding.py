"""The decoding option set shared by predict, simulate and rollout, defined once.

`--decoding NAME --set key=value ...` builds any registered strategy (perfsim.decoding), checked
against the strategy's own dataclass fields, so a new strategy module is usable from the command
line with no edit here. The older per-parameter flags (--k, --acceptance, --block-size, ...) and
the names mtp / eagle / diffusion stay as aliases so existing scripts keep working; a flag that
does not belong to the chosen strategy is refused rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

import typer

from perfsim.cli.options import option_group
from perfsim.errors import PerfsimInputError

# name -> (registered strategy, parameters the name fixes)
ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "mtp": ("speculative", {"draft": "mtp"}),
    "eagle": ("speculative", {"draft": "eagle"}),
    "diffusion": ("block_diffusion", {}),
}
# Command-line defaults for parameters a strategy requires (the library has no default for k).
DEFAULTS: dict[str, dict[str, Any]] = {"speculative": {"k": 4}}
# Parameters the command line insists on although the dataclass has a default.
REQUIRED: dict[str, dict[str, str]] = {"tidar": {"tokens_per_forward": "the measured T/NFE"}}

# legacy flag parameter -> (flag, strategy field, type, help)
FLAGS: dict[str, tuple[str, str, Any, str]] = {
    "draft": ("--draft", "draft", str, "speculative drafter: a model id, eagle or mtp (default: eagle)"),
    "k": ("--k", "k", int, "speculative draft length [4]"),
    "acceptance": ("--acceptance", "acceptance", float, "per-token draft acceptance rate"),
    "mean_accepted": ("--mean-accepted", "mean_accepted_tokens", float, "measured tokens per verify step"),
    "tree_width": ("--tree-width", "tree_width", int,
                   "speculative tree drafts: candidates kept per level (1 = chain) [1]"),
    "block_size": ("--block-size", "block_size", int, "diffusion block size [32]"),
    "sub_block": ("--sub-block", "sub_block_size", int,
                  "diffusion sub-block size (query tokens per forward) [8]"),
    "tokens_per_step": ("--tokens-per-step", "tokens_per_step", float, "diffusion tokens finalised per step"),
    "steps_per_block": ("--steps-per-block", "steps_per_block", int, "diffusion denoising steps per block"),
    "no_kv_cache": ("--no-kv-cache", "kv_cache", bool, "diffusion: recompute the whole sequence each step"),
    "draft_len": ("--draft-len", "draft_len", int, "TiDAR draft length [16]"),
    "tokens_per_forward": ("--tokens-per-forward", "tokens_per_forward", float,
                           "TiDAR tokens per forward (T/NFE)"),
}
PANEL = "Decoding"


def _fields(cls: type) -> dict[str, Any]:
    """The strategy's init parameters and their resolved types."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


def _coerce(name: str, field: str, kind: Any, text: str) -> Any:
    """A `--set field=text` value as the field's type, validated by pydantic."""
    import yaml
    from pydantic import TypeAdapter, ValidationError

    value: Any = text
    if kind is not str:
        try:
            value = yaml.safe_load(text) if "," not in text or text.lstrip().startswith("[") else [
                yaml.safe_load(part) for part in text.split(",")]
        except yaml.YAMLError:
            value = text
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        wanted = _KIND_NAMES.get(kind, str(kind).replace("typing.", ""))
        reason = exc.errors()[0]["msg"]
        raise PerfsimInputError(
            f"--set {field}={text}: {name} {field} must be {wanted} ({reason}).") from None


@dataclass(frozen=True)
class DecodingChoice:
    """What the decoding options said; `strategy()` builds and validates the strategy."""

    name: str | None
    settings: tuple[str, ...]
    flags: dict[str, Any]

    @property
    def given(self) -> bool:
        return self.name is not None or bool(self.settings) or bool(self.flags)

    def strategy(self, fallback: dict[str, Any] | None = None, unless: tuple[str, ...] = ()):
        """The strategy (autoregressive when nothing was given). `fallback` supplies values for
        parameters the user left unset, unless one of the `unless` parameters was given (rollout:
        the first per-step acceptance, unless a mean accepted length was measured)."""
        from perfsim.decoding import make_decoding, registered_decodings

        name, params = ALIASES.get(self.name or "autoregressive", (self.name or "autoregressive", {}))
        classes = registered_decodings()
        if name not in classes:
            allowed = ", ".join([*sorted(classes), *ALIASES])
            raise PerfsimInputError(f"--decoding {self.name!r} is unknown; allowed: {allowed}.")
        fields = _fields(classes[name])
        keys = ", ".join(fields)
        takes = f"it takes: {keys}" if fields else "it takes no parameters"
        given: dict[str, str] = {}  # field -> where it came from
        params = dict(params)
        for field in params:
            given[field] = f"--decoding {self.name}"
        for param, value in self.flags.items():
            flag, field, _, _ = FLAGS[param]
            if field not in fields:
                raise PerfsimInputError(f"{flag} does not apply to --decoding {self.name or name}; "
                                        f"{takes}.")
            self._put(params, given, field, False if param == "no_kv_cache" else value, flag)
        for item in self.settings:
            field, sep, text = item.partition("=")
            field = field.strip().replace("-", "_")
            if not sep or not field:
                raise PerfsimInputError(f"--set {item!r}: use key=value; {name}: {takes}.")
            if field not in fields:
                raise PerfsimInputError(f"--set {field}: {name} has no parameter {field!r}; {takes}.")
            self._put(params, given, field, _coerce(name, field, fields[field], text.strip()), "--set")
        for field, why in REQUIRED.get(name, {}).items():
            if field not in params:
                flag = next((f for f, fld, _, _ in FLAGS.values() if fld == field), f"--set {field}")
                raise PerfsimInputError(f"--decoding {self.name} needs {flag} ({why}).")
        if any(field in params for field in unless):
            fallback = None
        for field, value in {**DEFAULTS.get(name, {}), **(fallback or {})}.items():
            if field in fields and field not in params:
                params[field] = value
        return make_decoding(name, **params)

    @staticmethod
    def _put(params: dict[str, Any], given: dict[str, str], field: str, value: Any, source: str) -> None:
        if field in params and params[field] != value:
            raise PerfsimInputError(f"{field} is given twice ({given[field]} and {source}); give it once.")
        params[field], given[field] = value, source


def _choice(values: dict[str, Any]) -> DecodingChoice:
    flags = {name: values[name] for name in FLAGS if values[name] not in (None, False)}
    return DecodingChoice(values["decoding_name"], tuple(values["settings"] or ()), flags)


_OPTIONS: dict[str, tuple[Any, Any]] = {
    "decoding_name": (str | None, typer.Option(
        None, "--decoding", rich_help_panel=PANEL,
        help="a decoding strategy (see `perfsim list decodings`) or mtp, eagle, diffusion "
             "(default: autoregressive)")),
    "settings": (list[str] | None, typer.Option(
        None, "--set", metavar="KEY=VALUE", rich_help_panel=PANEL,
        help="a parameter of the strategy, e.g. --set k=4 --set acceptance=0.7 (repeatable)")),
    **{param: (kind | None if kind is not bool else bool,
               typer.Option(False if kind is bool else None, flag, help=text, rich_help_panel=PANEL))
       for param, (flag, _, kind, text) in FLAGS.items()},
}

decoding_options = option_group("decoding", _OPTIONS, _choice)
"""Adds --decoding, --set and the alias flags; the command gets `decoding: DecodingChoice`."""
