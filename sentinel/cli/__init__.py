"""The ``sentinel`` command. Each command family lives in its own module here and is
added to the group below; domain errors become one line on stderr, never a traceback."""

from __future__ import annotations

import sys

import click

# Command modules register themselves on ``cli`` when imported.
from sentinel.cli import (  # noqa: F401
    core,
    incidents,
    match,
    notify,
    ops,
    people,
    sources,
    trends,
    web,
)
from sentinel.cli.base import AppContext, cli


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="sentinel", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("已中断。", err=True)
        sys.exit(130)


__all__ = ["AppContext", "cli", "main"]
