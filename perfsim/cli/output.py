"""Shared CLI output: data on stdout (a rich table, JSON or CSV), messages and progress on stderr.

One place decides how every command prints, so `--format` means the same thing everywhere and a
script can rely on stdout holding only data. Errors are one sentence (`fail`), never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from perfsim.cli.human import cell

if TYPE_CHECKING:
    import pandas as pd


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str) -> NoReturn:
    """Print one sentence on stderr and exit with status 2 (bad input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def emit(frame: pd.DataFrame, fmt: Format, title: str = "") -> None:
    """Print a table of rows: JSON records, CSV, or a table that fits the terminal with human
    units (a table too wide for it is printed one record at a time, field by field)."""
    if fmt is Format.json:
        typer.echo(frame.to_json(orient="records", indent=2))
    elif fmt is Format.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        import pandas as pd
        from rich.console import Console

        console = Console(file=sys.stdout)
        cells, table = _table(frame, title)
        if _natural_width(cells[1:] or cells) <= console.width:  # headers may wrap, values never
            console.print(table)
            return
        for i, (_, row) in enumerate(frame.iterrows()):
            record = pd.DataFrame({"field": [str(c) for c in frame.columns], "value": list(row)})
            label = f"{title} ({i + 1} of {len(frame)})" if len(frame) > 1 else title
            console.print(_table(record, label)[1])


def _natural_width(cells: list[list[str]]) -> int:
    """Characters a table needs without wrapping `cells`: widest per column plus the borders."""
    widths = [max(len(text) for text in column) for column in zip(*cells, strict=True)]
    return sum(widths) + 3 * len(widths) + 1


#: First columns of a name/value table, whose values take their unit from the row's name.
_NAME_COLUMNS = ("metric", "field")


def _table(frame: pd.DataFrame, title: str) -> tuple[list[list[str]], Any]:
    """The header and cell texts (to measure) and the rich table of `frame`."""
    from rich.table import Table

    columns = [str(c) for c in frame.columns]
    named = len(columns) == 2 and columns[0] in _NAME_COLUMNS and columns[1] == "value"
    cells = [columns] + [[cell(v, str(row[0]) if named and c == 1 else columns[c]) for c, v in enumerate(row)]
                         for row in frame.itertuples(index=False)]
    table = Table(title=title or None)
    for c, col in enumerate(frame.columns):
        numeric = (named and c == 1) or frame[col].dtype.kind in "fiu"
        widest = max((len(texts[c]) for texts in cells[1:]), default=1)
        table.add_column(columns[c], justify="right" if numeric else "left", overflow="fold",
                         min_width=min(widest, 40))
    for texts in cells[1:]:
        table.add_row(*texts)
    return cells, table


def emit_summary(summary: Mapping[str, Any], fmt: Format, title: str = "") -> None:
    """Print one run's metrics: a JSON object, or metric/value rows as CSV or a table."""
    if fmt is Format.json:
        typer.echo(json.dumps(dict(summary), indent=2, default=str))
        return
    import pandas as pd

    frame = pd.DataFrame({"metric": list(summary), "value": list(summary.values())})
    emit(frame.astype({"value": object}), fmt, title)


def emit_names(names: list[str], fmt: Format) -> None:
    """Print a list of ids: one per line (table), a JSON list, or a one-column CSV."""
    if fmt is Format.json:
        typer.echo(json.dumps(names, indent=2))
    else:
        typer.echo("\n".join(["name", *names] if fmt is Format.csv else names))


class Progress:
    """Callbacks the library takes: `update(done, total)` (simulators, sweeps) and
    `advance(amount)` (calibration, whose total is an estimate in seconds)."""

    def __init__(self, bar=None, task=None):
        self._bar, self._task = bar, task
        # None when disabled, so the library skips progress reporting as before
        self.on_update = self.update if bar is not None else None
        self.on_advance = self.advance if bar is not None else None

    def update(self, done: float, total: float | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, **({} if total is None else {"total": total}))

    def advance(self, amount: float = 1.0) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)


@contextmanager
def progress(label: str, total: float | None = None, enabled: bool = True) -> Iterator[Progress]:
    """The one progress bar of the CLI: on stderr, transient, nothing at all when disabled or when
    stderr is not a terminal (a log or a pipe gets no bar and no stray blank line, so an error
    stays the only line there; stdout stays clean for data either way)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield Progress()
        return
    from rich.progress import (
        BarColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = [TextColumn(label), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TimeRemainingColumn()]
    with RichProgress(*columns, console=console, transient=True) as bar:
        yield Progress(bar, bar.add_task(label, total=total))


def check_output(path: Path | None, option: str, suffixes: tuple[str, ...] = ()) -> Path | None:
    """Refuse an output path whose folder does not exist (or with a wrong suffix) before a run
    starts, instead of failing after it."""
    if path is None:
        return None
    if suffixes and path.suffix not in suffixes:
        fail(f"{option} {path}: the file must end in {' or '.join(suffixes)}.")
    folder = path.parent
    if not folder.is_dir():
        fail(f"{option} {path}: folder {folder} does not exist; create it first.")
    if path.is_dir():
        fail(f"{option} {path} is a folder; give a file name.")
    return path


def output_callback(option: str, suffixes: tuple[str, ...] = ()) -> Callable[[Path | None], Path | None]:
    """A typer callback running `check_output` while the command line is parsed."""
    return lambda value: check_output(value, option, suffixes)
