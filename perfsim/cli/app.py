"""`perfsim` command line: the typer app and its entry point.

Data goes to stdout (table, JSON or CSV), messages to stderr. `main` owns the promise that a user
never sees a traceback for bad input: every usage error (bad value, unknown option or command,
missing option, bad choice) and every PerfsimInputError is one sentence on stderr and exit status
2, whichever typer/click version is installed. typer >= 0.2x raises exceptions from its bundled
copy of click (and the core install may have no click at all), so they are recognised by what
they do (`format_message()`, `exit_code`) rather than by importing click's classes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import typer

from perfsim.cli.calibrate import calibrate_cmd, validate_cmd
from perfsim.cli.catalog import import_hf_cmd, list_cmd, show_cmd
from perfsim.cli.compare import compare_cmd
from perfsim.cli.dashboard import dashboard_cmd
from perfsim.cli.options import guard
from perfsim.cli.rollout import rollout_cmd
from perfsim.cli.search import frontier_cmd, search_cmd, sweep_cmd
from perfsim.cli.serving import predict_cmd, report_cmd, simulate_cmd
from perfsim.errors import PerfsimInputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Predict LLM latency, throughput and memory on an accelerator.")


def _version(value: bool) -> None:
    if value:
        from perfsim import __version__

        typer.echo(f"perfsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                       help="print the perfsim version and exit")) -> None:
    """Predict LLM latency, throughput and memory on an accelerator."""


COMMANDS: dict[str, Callable] = {
    "list": list_cmd, "show": show_cmd, "predict": predict_cmd, "simulate": simulate_cmd,
    "report": report_cmd, "import-hf": import_hf_cmd, "calibrate": calibrate_cmd,
    "validate": validate_cmd, "rollout": rollout_cmd, "compare": compare_cmd, "sweep": sweep_cmd,
    "search": search_cmd, "frontier": frontier_cmd, "dashboard": dashboard_cmd,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(guard(_command))


def _sentence(text: str) -> str:
    """One line: typer's messages may wrap or carry a trailing newline."""
    return " ".join(str(text).split())


def _usage_error(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit status) for a click/typer usage error of any version, else None."""
    format_message = getattr(exc, "format_message", None)
    if not callable(format_message) or not hasattr(exc, "exit_code"):
        return None
    message = _sentence(format_message()).replace("Value error, ", "")
    command_path = getattr(getattr(exc, "ctx", None), "command_path", None)
    if command_path:
        message = f"{message.rstrip('.')} (see `{command_path} --help`)"
    return f"{message.rstrip('.')}.", 2


def run(argv: Sequence[str] | None = None) -> int:
    """Run the app on `argv` (default: the process arguments) and return the exit status."""
    try:
        status = app(args=list(argv) if argv is not None else None, prog_name="perfsim",
                     standalone_mode=False)  # click returns typer.Exit's code in this mode
        return status if isinstance(status, int) else 0
    except PerfsimInputError as exc:
        typer.echo(f"error: {_sentence(str(exc))}", err=True)
        return 2
    except (typer.Exit, SystemExit) as exc:  # raised outside click's handling (e.g. a callback)
        code = getattr(exc, "exit_code", getattr(exc, "code", 1))
        return code if isinstance(code, int) else 1
    except KeyboardInterrupt:
        typer.echo("error: interrupted.", err=True)
        return 130
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `perfsim`: the help, as click < 8.2 did
            typer.echo(exc.format_message())  # type: ignore[attr-defined]
            return 0
        usage = _usage_error(exc)
        if usage is not None:
            typer.echo(f"error: {usage[0]}", err=True)
            return usage[1]
        if type(exc).__name__ == "Abort":
            typer.echo("error: aborted.", err=True)
            return 1
        if isinstance(exc, OSError):  # a file or network problem met while running
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            typer.echo(f"error: {_sentence(exc.strerror or str(exc) or type(exc).__name__)}{where}.",
                       err=True)
            return 2
        raise


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the app and exit with its status."""
    sys.exit(run(argv))
