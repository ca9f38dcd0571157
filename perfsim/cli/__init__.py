"""`perfsim` command line (typer): one module per command group, choices from the registries."""

from perfsim.cli.app import app, main

__all__ = ["app", "main"]
