"""``sentinel source test``: a dry run of one source — fetched and parsed as the daemon
would, nothing stored and nobody told; what would be stored and what the matcher says."""

from __future__ import annotations

import click
import yaml

from core.errors import SentinelError
from core.vocabulary import Category, Severity
from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json


@cli.group("source")
def source_group() -> None:
    """来源：试采一个来源，看看会采到什么。"""


def _settings(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"“{pair}”应写成 键=值，如 interval=5m 或 list.item='a.xst::attr(href)'",
                param_hint="'--set'",
            )
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


@source_group.command("test")
@click.argument("name", required=False)
@click.option(
    "--url", "urls", multiple=True, metavar="URL", help="不在配置中的来源：网址（site 可写多个）"
)
@click.option(
    "--type",
    "kind",
    default=None,
    metavar="TYPE",
    help="与 --url 一起用：feed、site、search 或插件类型",
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="与 --url 一起用：来源的其他设置，如 list.item='a.xst::attr(href)'、fields.title='h1::text'",
)
@click.option("--limit", default=10, show_default=True, help="最多显示多少条帖子")
@json_option
@pass_app
def source_test(app: AppContext, name, urls, kind, pairs, limit, as_json) -> None:
    """试采：按配置采集并解析一次，不保存、不通知，显示将会保存的内容和匹配结果。

    NAME 是 sentinel.yaml 中的来源名称；或者用 --url URL --type TYPE 试采尚未配置的来源。"""
    from sentinel.dryrun import dry_run, source_from_options

    cfg = app.config
    if name and urls:
        raise click.UsageError("请只写来源名称 NAME，或只用 --url 指定网址，不要同时使用")
    if name:
        chosen = next((s for s in cfg.sources if s.name == name), None)
        if chosen is None:
            names = "、".join(s.name for s in cfg.sources) or "（无）"
            raise SentinelError(f"没有名为 '{name}' 的来源；已配置的来源：{names}")
    elif urls:
        chosen = source_from_options(kind or "feed", list(urls), _settings(pairs))
    else:
        raise click.UsageError("请写出来源名称 NAME，或用 --url URL --type TYPE 指定要试采的网址")
    from sentinel.cli.match import _matcher

    run = dry_run(cfg, chosen, matcher=_matcher(app))
    if as_json:
        data = run.to_dict()
        data["posts"] = data["posts"][:limit]
        print_json(data)
    else:
        _show(run, limit, cfg.tz)
    if not run.ok:
        raise SystemExit(1)


def _show(run, limit: int, tz) -> None:
    from sentinel.cli.core import error_label, local
    from sentinel.terminal import Console, Table

    con = Console()
    d = run.to_dict()
    c = d["counts"]
    con.print(
        f"试采来源“{d['source']}”（{d['type']}）：请求 {d['requests']} 次，用时 {d['seconds']:.1f} 秒；"
        f"将保存帖子 {c['posts']} 条，其中提及监测对象 {c['mentioned']} 条、需处置 {c['alerts']} 条。"
        "（试采不保存、不通知）"
    )
    if d["error"]:
        con.print(f"采集失败：{error_label(d['error_kind'])}：{d['error']}")
    for w in d["warnings"][:10]:
        con.print(f"提示：{w}")
    for i, t in enumerate(run.posts[:limit], 1):
        p, m = t.post, t.match
        verdict = "未提及监测对象"
        if m.mentioned:
            verdict = "提及监测对象，无需处置"
        if m.alert:
            verdict = (
                f"需处置：{m.score} 分，{Severity.label_of(m.severity, '')} "
                f"{Category.label_of(m.category, '')}"
            ).strip()
        table = Table(title=f"第 {i} 条", show_header=False, title_justify="left")
        table.add_column("项")
        table.add_column("内容", overflow="fold")
        table.add_row("标题", p.title or "（无标题）")
        table.add_row("发布时间", local(p.published_at, tz) if p.published_at else "（未识别）")
        table.add_row("作者", p.author or "（未识别）")
        table.add_row("网址", p.url)
        table.add_row("正文", t.preview() or "（无正文）")
        table.add_row("匹配", verdict)
        if m.hits:
            table.add_row("命中", "、".join(dict.fromkeys(h.term for h in m.hits)))
        con.print(table)
    if len(run.posts) > limit:
        con.print(f"……另有 {len(run.posts) - limit} 条未显示（--limit 调整）。")
