"""The command group, the shared context (config, database) and error handling."""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from core.errors import SentinelError
from sentinel import __version__
from sentinel.cli import helptext


@dataclass
class AppContext:
    """What every command gets: the config path and, lazily, the config and database."""

    config_path: str | None
    json: bool = False
    _config: Any = None
    _db: Any = None
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    @property
    def config(self):
        if self._config is None:
            from sentinel import config

            self._config = config.load(self.config_path)
            if config.default_file_missing(self.config_path):
                click.echo(
                    f"提示：当前文件夹（{Path.cwd()}）没有 sentinel.yaml，使用内置默认设置"
                    "（没有来源，数据库在 ./var/sentinel.db）；用 --config 指定配置文件。",
                    err=True,
                )
        return self._config

    @property
    def db(self):
        if self._db is None:
            from storage.db import Database

            self._db = Database(self.config.database_url)
            self._cleanup.append(self._db.dispose)
        return self._db

    def close(self) -> None:
        for f in reversed(self._cleanup):
            f()


# Click's own usage errors, in the office's words (the option names stay as typed).
_USAGE = [
    (re.compile(r"Missing option '(.+?)'\.?"), r"缺少选项 \1。"),
    (re.compile(r"Missing argument '(.+?)'\.?"), r"缺少参数 \1。"),
    (re.compile(r"No such option:? '?([^'\s.]+)'?\.?"), r"没有这个选项：\1。"),
    (re.compile(r"No such command '(.+?)'\.?"), r"没有这个命令：\1。"),
    (re.compile(r"Option '(.+?)' requires an argument\.?"), r"选项 \1 需要一个值。"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)"), r"多余的参数：\1"),
    (
        re.compile(r"Invalid value for '(.+?)': '(.*?)' is not a valid integer\.?"),
        r"'\1' 的值无效：'\2' 不是整数。",
    ),
    (
        re.compile(r"Invalid value for '(.+?)': '(.*?)' is not a valid float\.?"),
        r"'\1' 的值无效：'\2' 不是数字。",
    ),
    (
        re.compile(r"Invalid value for '(.+?)': '(.*?)' is not one of (.*)\.?"),
        r"'\1' 的值无效：'\2' 不是以下之一：\3",
    ),
    (
        re.compile(r"Invalid value for '(.+?)': (?:File|Path|Directory) '(.*?)' is a directory\.?"),
        r"'\1' 的值无效：“\2”是文件夹，请给出其中的文件。",
    ),
    (
        re.compile(r"Invalid value for '(.+?)': (?:File|Path|Directory) '(.*?)' does not exist\.?"),
        r"'\1' 的值无效：找不到“\2”，请核对路径。",
    ),
    (re.compile(r"Invalid value for '(.+?)': (.*)"), r"'\1' 的值无效：\2"),
]


_DID_YOU_MEAN = re.compile(
    r"\s*\(?\s*(?:Possible options: (.+?)\)|Did you mean (?:one of: )?(.+?)\?\)?)"
)


def usage_in_chinese(message: str) -> str:
    message = _DID_YOU_MEAN.sub(lambda m: f"（是否想输入 {m.group(1) or m.group(2)}？）", message)
    for pattern, replacement in _USAGE:
        if pattern.search(message):
            return pattern.sub(replacement, message, count=1)
    return message


class ChineseHelp:
    """--help in Chinese: the usage line, the headings, the help option itself, Click's
    placeholders and brackets, and the words a vocabulary accepts."""

    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "显示此帮助并退出。"
        return opt

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(
            ctx.command_path,
            helptext.help_in_chinese(" ".join(self.collect_usage_pieces(ctx))),
            prefix="用法：",
        )

    def format_help_text(self, ctx, formatter) -> None:
        text = inspect.cleandoc(self.help or "").partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                helptext.write_text(formatter, text)

    def _rows(self, ctx, kind) -> list[tuple[str, str]]:
        rows = []
        for p in self.get_params(ctx):
            if not isinstance(p, kind) or (record := p.get_help_record(ctx)) is None:
                continue
            name, text = record
            if isinstance(p.type, VocabChoice):
                text, shown = re.subn(r"\s*\[default: [^\]]*\]$", "", text)  # a key
                vocab = p.type.vocab
                text = "；".join(
                    x for x in (text.rstrip("。"), f"可用：{vocab.choices_text()}") if x
                )
                if p.default is not None and shown:
                    text += f"  [默认：{vocab.label_of(p.default)}]"
            elif isinstance(p.type, IncidentId) and not text:
                text = "事件编号，如 12 或 #12（邮件中的写法）"
            if text or kind is click.Option:  # a bare placeholder says no more than usage
                rows.append((helptext.help_in_chinese(name), helptext.help_in_chinese(text)))
        return rows

    def format_arguments(self, ctx, formatter) -> None:
        if rows := self._rows(ctx, click.Argument):
            with formatter.section("参数"):
                helptext.write_rows(formatter, rows)

    def format_options(self, ctx, formatter) -> None:
        if rows := self._rows(ctx, click.Option):
            with formatter.section("选项"):
                helptext.write_rows(formatter, rows)
        if isinstance(self, click.Group):
            commands = [
                (n, c)
                for n in self.list_commands(ctx)
                if (c := self.get_command(ctx, n)) and not c.hidden
            ]
            if commands:
                with formatter.section("命令"):
                    helptext.write_rows(
                        formatter, [(n, c.get_short_help_str(200)) for n, c in commands]
                    )


class SentinelCommand(ChineseHelp, click.Command):
    """A command whose --help is in Chinese."""


class SentinelGroup(ChineseHelp, click.Group):
    """Turns domain errors into one clear line and the right exit status, and shows
    Click's usage errors in Chinese."""

    command_class = SentinelCommand
    group_class = type  # subgroups are SentinelGroups too

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            hint = f"输入 '{e.ctx.command_path} --help' 查看用法。" if e.ctx else ""
            click.echo(
                f"错误：{usage_in_chinese(e.format_message())}" + (f"\n{hint}" if hint else ""),
                err=True,
            )
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("已取消。", err=True)
            sys.exit(1)
        sys.exit(0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentinelError as e:
            click.echo(f"错误：{e}" if not isinstance(e, _Positioned) else str(e), err=True)
            sys.exit(e.exit_code)


from core.errors import PositionedError as _Positioned


class DeferredGroup(SentinelGroup):
    """A group whose ``load_deferred()`` adds more commands on the first look at its
    commands (``--help``, a command's name), not at import: a table that is costly to
    import is then paid for only by the commands that need it."""

    load_deferred: Callable[[], None] | None = None

    @property
    def commands(self) -> dict:
        if self.load_deferred is not None:
            load, self.load_deferred = self.load_deferred, None
            load()
        return self._commands

    @commands.setter
    def commands(self, value: dict) -> None:
        self._commands = value

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        self._commands[name or cmd.name] = cmd  # adding is not a look: nothing loads


@click.group(cls=SentinelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="SENTINEL_CONFIG",
    default=None,
    metavar="PATH",
    help="配置文件（默认 ./sentinel.yaml，或环境变量 SENTINEL_CONFIG）",
)
@click.version_option(__version__, prog_name="sentinel", help="显示版本号并退出。")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """sentinel：高校网络舆情监测与应急处置系统。"""
    app = AppContext(config_path=config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


def json_option(f: Callable) -> Callable:
    """Add ``--json`` (machine-readable output) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 格式输出（供程序读取）")(f)


def pass_app(f: Callable) -> Callable:
    """Pass the AppContext as the first argument, and accept ``--config PATH`` after the
    command name too (``sentinel poll --config x.yaml``), as the contract says."""

    @functools.wraps(f)
    @click.pass_obj
    def wrapper(app: AppContext, *args, config_path: str | None = None, **kwargs):
        if config_path:
            app.config_path = config_path
        return f(app, *args, **kwargs)

    return click.option(
        "--config", "config_path", default=None, metavar="PATH", help="配置文件（与写在命令前相同）"
    )(wrapper)


def print_json(obj: Any) -> None:
    """JSON on stdout: UTF-8, Chinese unescaped, datetimes as ISO 8601."""
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_default))


def _default(o: Any) -> Any:
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class VocabChoice(click.ParamType):
    """A choice among a vocabulary's words: the key (``hype``), the label (``恶意传播炒作``)
    or an alias (``炒作``) all work; the command receives the stored key."""

    def __init__(self, vocab):
        self.vocab = vocab
        self.name = vocab.__noun__

    def get_metavar(self, param, ctx=None) -> str:
        # The vocabulary's noun (处置类别); --help lists the words it accepts.
        return self.vocab.__noun__

    def convert(self, value, param, ctx):
        try:
            return self.vocab.parse(value).value
        except ValueError as e:
            self.fail(str(e), param, ctx)


class IncidentId(click.ParamType):
    """An incident number, typed as mails show it (``#12``) or plain (``12``)."""

    name = "事件编号"

    def get_metavar(self, param, ctx=None) -> str:
        return "ID"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().lstrip("#＃")
        if not text.isdigit():
            self.fail(f"“{value}”不是事件编号；请写成 12 或 #12", param, ctx)
        return int(text)


def acting_user(by: str | None) -> str:
    """Who acts: ``--by NAME``, else ``$SENTINEL_USER``; neither is a usage error."""
    import os

    name = (by or os.environ.get("SENTINEL_USER") or "").strip()
    if not name:
        raise click.UsageError(
            "请用 --by 写明操作人姓名（记入处置记录），或设置环境变量 SENTINEL_USER"
        )
    return name
