"""Watchlist and matching commands: ``watchlist check``, ``match`` and ``backtest``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from core.errors import SentinelError, WatchlistError
from core.vocabulary import Category, HitKind, Severity
from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json


def _scored(matcher, text: str, title: str):
    """The matcher's result, with the polarity filled in for a post that does not name
    the college too: the matcher skips it there, the contract always carries it."""
    from alerting.matcher import post_text
    from alerting.sentiment import polarity

    r = matcher.match(text, title=title)
    if r.sentiment is None:
        r.sentiment = polarity(post_text(text, title))
    return r


def _matcher(app: AppContext):
    from alerting.matcher import load_matcher

    cfg = app.config
    return load_matcher(cfg.watchlist_files(), cache_dir=cfg.var_path / "cache")


# -- sentinel watchlist check ----------------------------------------------------------------
@cli.group("watchlist")
def watchlist_group() -> None:
    """监测词表：检查 YAML 词表文件。"""


@watchlist_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def watchlist_check(app: AppContext, files: tuple[Path, ...], as_json: bool) -> None:
    """校验监测词表（默认为 sentinel.yaml 中 watchlists 列出的文件）。

    每个错误输出一行 FILE:LINE:COL: message，有错误时退出码为 1。"""
    from watchlists import loader

    paths = list(files) or app.config.watchlist_files()
    errors: list[str] = []
    for p in paths:
        try:
            loader.load_file(p)
        except WatchlistError as e:
            errors.append(str(e))
    merged = None
    if not errors:
        try:
            merged = loader.load(paths)
        except WatchlistError as e:
            errors.append(str(e))
    if as_json:
        print_json({"ok": not errors, "files": [str(p) for p in paths], "errors": errors})
    else:
        for line in errors:
            click.echo(line)
        if merged is not None:
            names = sum(
                len(e.all_names()) + len(e.english) + len(e.initials) + len(e.units)
                for e in merged.entities
            )
            terms = sum(len(t.terms) for t in merged.topics)
            click.echo(
                f"监测词表检查通过：{len(paths)} 个文件，{len(merged.entities)} 个监测对象（{names} 个名称），"
                f"{len(merged.topics)} 个话题（{terms} 个词），{len(merged.exclusions)} 组排除，"
                f"{len(merged.rules)} 条规则。版本 {merged.version[:12]}"
            )
    if errors:
        sys.exit(1)


# -- sentinel match ----------------------------------------------------------------------------
@cli.command("match")
@click.argument("text", required=False)
@click.option("--title", default="", help="帖子标题（一并匹配）")
@click.option(
    "--jsonl",
    is_flag=True,
    help='从标准输入逐行读取 {"id","title","text"}，每行输出一条结果',
)
@json_option
@pass_app
def match_cmd(app: AppContext, text: str | None, title: str, jsonl: bool, as_json: bool) -> None:
    """对一段文字（或标准输入）评分：是否提到学院、是否须处置、分数、级别、类别和理由。"""
    if text is None and not jsonl and sys.stdin.isatty():
        raise click.UsageError(
            '请给出要评分的文字：sentinel match "文字"，或从标准输入传入（cat 帖子.txt | sentinel match）'
        )
    matcher = _matcher(app)
    if jsonl:
        _jsonl(matcher)
        return
    if text is None:
        text = sys.stdin.read()
    if not text.strip() and not title.strip():
        raise SentinelError("没有要评分的文字（输入为空）")
    result = _scored(matcher, text, title)
    if as_json:
        print_json(result.to_dict())
        return
    _print_result(result, text, title)


def _jsonl(matcher) -> None:
    out = sys.stdout
    write = out.write
    dumps = json.dumps
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError('应为 {"id": …, "title": …, "text": …} 形式的对象')  # noqa: TRY004
            r = _scored(matcher, str(obj.get("text") or ""), str(obj.get("title") or ""))
            d = {"id": obj.get("id"), **r.to_dict()}
        except ValueError as e:
            d = {"id": None, "line": lineno, "error": f"第{lineno}行不是有效的 JSON 对象：{e}"}
        write(dumps(d, ensure_ascii=False) + "\n")
    out.flush()


def _print_result(r, text: str, title: str) -> None:
    if not r.mentioned:
        click.echo("未提到监测对象（不相关）。")
        return
    head = "须处置（预警）" if r.alert else "提及，无需处置"
    parts = [f"{head}；评分 {r.score}"]
    if r.severity:
        parts.append(Severity.label_of(r.severity))
    if r.category:
        parts.append(f"类别：{Category.label_of(r.category)}")
    click.echo("，".join(parts))
    click.echo("监测对象：" + "、".join(r.entities))
    if r.sentiment is not None:
        click.echo(f"情感倾向：{r.sentiment.label_zh}（{r.sentiment.score:+.2f}）")
    for h in r.hits:
        what = "名称" if h.topic is None else f"话题 {h.topic}（权重{h.weight}）"
        where = "标题" if h.field == "title" else "正文"
        click.echo(
            f"  {where}[{h.start}:{h.end}] “{h.surface}” → {h.term}｜{HitKind.label_of(h.kind)}｜{what}"
        )
    click.echo("理由：")
    for line in r.reasons:
        click.echo(f"  - {line}")


# -- sentinel backtest -------------------------------------------------------------------------
@cli.command()
@click.option(
    "--since", default="30d", show_default=True, metavar="AGE", help="这段时间内采集的帖子"
)
@click.option("--limit", default=30, show_default=True, help="每类变化列出的帖子条数")
@json_option
@pass_app
def backtest(app: AppContext, since: str, limit: int, as_json: bool) -> None:
    """用当前监测词表重新匹配已存储的帖子，报告会新增和取消哪些预警。"""
    from alerting.backtest import run_backtest
    from sentinel.cli.core import parse_since
    from sentinel.cli.progress import progress

    start = parse_since(since)
    matcher = _matcher(app)
    with progress("回测", enabled=not as_json) as (tick,):
        report = run_backtest(app.db, matcher, since=start, progress=tick)
    if as_json:
        print_json(report.to_dict())
        return
    c = report.counts
    click.echo(
        f"回测 {since} 内的帖子 {c['posts']} 条（词表版本 {matcher.version[:12]}）：现在提及 {c['mentioned']} 条，"
        f"预警 {c['alerts']} 条；原记录预警 {c['recorded_alerts']} 条，未匹配过 {c['unrecorded']} 条。"
    )
    click.echo(
        f"新增预警 {c['added']} 条，取消预警 {c['dropped']} 条，评分或类别变化 {c['changed']} 条。"
    )
    for label, rows in (
        ("新增预警", report.added),
        ("取消预警", report.dropped),
        ("变化", report.changed),
    ):
        if not rows:
            continue
        click.echo(f"\n{label}：")
        for row in rows[:limit]:
            old = row["before"]
            new = row["after"]
            before = (
                f"{old['score']}分/{Category.label_of(old['category'], '—')}" if old else "未匹配"
            )
            after = f"{new['score']}分/{Category.label_of(new['category'], '—')}"
            click.echo(f"  #{row['id']} {row['title'][:40]}  {before} → {after}")
        if len(rows) > limit:
            click.echo(f"  ……另有 {len(rows) - limit} 条（用 --json 查看全部）")
