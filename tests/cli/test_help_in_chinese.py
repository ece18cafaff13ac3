"""Every command's --help reads in Chinese, Click's notes after an option included
([必填], [默认：7]), as the office reads it at the terminal."""

from __future__ import annotations

import click
from click.testing import CliRunner

from sentinel.cli import cli


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        yield (*path, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_no_command_help_shows_clicks_english_notes():
    commands = list(_commands(cli))
    assert ("incident", "reply") in commands and ("user", "passwd") in commands
    for path in commands:
        r = CliRunner().invoke(cli, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)
        for english in ("[required]", "required]", "default:", "env var:"):
            assert english not in r.output, (path, english, r.output)
    out = CliRunner().invoke(cli, ["incident", "reply", "--help"]).output
    assert "答复内容（新稿取代旧稿，旧稿保留在处置记录中） [必填]" in " ".join(out.split())
    assert "[默认：7" in CliRunner().invoke(cli, ["report", "weekly", "--help"]).output
