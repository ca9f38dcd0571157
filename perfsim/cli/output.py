"""Shared CLI output: data on stdout as a rich table, JSON or CSV; errors as one sentence."""

from __future__ import annotations

import sys
from enum import StrEnum

import pandas as pd
import typer


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def emit(frame: pd.DataFrame, fmt: Format, title: str = "") -> None:
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
            table.add_row(*[cell(v) for v in row])
        Console(file=sys.stdout, width=200).print(table)


def cell(value) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:,.4g}"  # NaN: not applicable (does not fit)
    return str(value)
