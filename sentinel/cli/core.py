"""Collection and operation commands: poll, posts, status, run, demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from core.errors import SentinelError
from core.times import office_time
from core.vocabulary import (
    Category,
    FetchErrorKind,
    OutboxStatus,
    Severity,
    SourceHealth,
    SourceKind,
)
from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json


def parse_age(value: str, option: str = "--for") -> float:
    """'30m', '2h', '7d' or a number of seconds → seconds; a bad value is a usage error
    with a Chinese message (the office reads it)."""
    from core.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' 不是有效的时间段；请写成 30m、2h、7d 或秒数（须大于 0）",
            param_hint=f"'{option}'",
        ) from None


def error_label(kind: str | None) -> str:
    """A source's error kind in the office's words (the kind itself stays in --json)."""
    return FetchErrorKind.label_of(kind)


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """'24h', '30d', '90m' → a UTC time that far back; an ISO date is taken as is."""
    from core.durations import parse_duration

    if not value:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' 不是时间段（如 24h、7d）或日期（如 2026-11-20）", param_hint=f"'{option}'"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def local(t: datetime | None, tz, style: str = "minute") -> str:
    return office_time(t, tz, style=style)


@cli.command()
@click.option("--source", "only", metavar="NAME", help="只采集这一来源")
@json_option
@pass_app
def poll(app: AppContext, only: str | None, as_json: bool) -> None:
    """一次采集：所有来源（或指定来源）采集、匹配、立案、发送通知后退出。"""
    from sentinel.cli.progress import progress
    from sentinel.pipeline import Pipeline

    pipeline = Pipeline(app.config, app.db)
    if not app.config.sources:
        raise SentinelError("配置文件中没有来源（sources）；请参照 sentinel.example.yaml 添加。")
    with progress("采集", "匹配", enabled=not as_json) as (on_source, on_backlog):
        runs, stats, sent = pipeline.poll(only, on_source=on_source, on_backlog=on_backlog)
    if as_json:
        print_json(
            {
                "sources": [r.to_dict() for r in runs],
                "matched": stats.matched,
                "alerts": stats.alerts,
                "incidents_opened": stats.incidents_opened,
                "outbox": sent,
            }
        )
    else:
        from sentinel.terminal import Console, Table  # crawled text: no markup, no escapes

        t = Table(title="采集结果")
        for col in ("来源", "请求", "新增", "更新", "已有", "错误"):
            t.add_column(col)
        for r in runs:
            err = "未变化(304)" if r.not_modified else ""
            if r.error:
                err = f"{error_label(r.error_kind)}：{r.error}"
            t.add_row(r.source, str(r.fetched), str(r.new), str(r.changed), str(r.seen), err)
        Console().print(t)
        click.echo(
            f"匹配 {stats.matched} 条，需处置 {stats.alerts} 条，新立事件 {stats.incidents_opened} 件；"
            f"通知发送：{_sent_line(sent)}"
        )
    if any(r.error for r in runs) and all(r.error for r in runs):
        raise SystemExit(1)


def _sent_line(sent: dict) -> str:
    if "error" in sent:
        return f"失败（{sent['error']}），消息仍在发件箱中，稍后重试"
    return "，".join(f"{OutboxStatus.label_of(k)} {v}" for k, v in sent.items()) or "无"


@cli.command()
@click.option("--source", "only", metavar="NAME", help="只列出这一来源的帖子")
@click.option("--since", default=None, metavar="AGE", help="只列出这段时间内采集的帖子：24h、7d……")
@click.option("--matched", is_flag=True, help="只列出提及我校（监测对象）的帖子")
@click.option("--alerts", is_flag=True, help="只列出需要处置的帖子")
@click.option("--limit", default=100, show_default=True, help="最多列出多少条")
@json_option
@pass_app
def posts(app: AppContext, only, since, matched, alerts, limit, as_json) -> None:
    """列出已采集的帖子（标题、来源、链接、时间、匹配分值）。"""
    from storage import listing

    since_t = parse_since(since)
    with app.db.session() as s:
        rows = listing.posts(
            s, source=only, since=since_t, matched=matched, alerts=alerts, limit=limit
        )
        if (
            only
            and not rows
            and only not in {x.name for x in app.config.sources}
            and not listing.source_known(s, only)
        ):
            names = ", ".join(x.name for x in app.config.sources) or "（无）"
            raise SentinelError(f"没有名为 '{only}' 的来源；已配置的来源：{names}")
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("没有符合条件的帖子。")
        return
    from alerting.compose.views import source_labels
    from sentinel.terminal import (
        Console,
        Table,
        print_fitted,
    )  # crawled text: no markup, no escapes

    tz = app.config.tz
    labels = source_labels(app.config)

    def build(dropped: set[str]):
        # Readable at 80 columns: the title and the source fold, never cut; the
        # severity reads as its numeral; the least useful columns go first.
        t = Table(title=f"帖子（{len(rows)} 条）", show_lines=True, pad_edge=False)
        heads = [
            h
            for h in ("编号", "标题", "来源", "发布时间", "采集时间", "分值", "级别", "类别")
            if h not in dropped
        ]
        for h in heads:
            if h == "标题":
                t.add_column(h, overflow="fold", ratio=3, min_width=16)
            elif h == "来源":
                t.add_column(h, overflow="fold", ratio=1, min_width=8)
            else:
                t.add_column(h, no_wrap=True, justify="right" if h in ("编号", "分值") else "left")
        for p in rows:
            m = p["match"]
            level = Severity.get(m["severity"]) if m else None
            cells = {
                "编号": str(p["id"]),
                "标题": (p["title"] or p["text"][:30])[:60],
                "来源": labels.get(p["source"]) or p["source"],
                "发布时间": local(p["published_at"], tz, "short") if p["published_at"] else "—",
                "采集时间": local(p["fetched_at"], tz, "short"),
                "分值": str(m["score"]) if m else "未匹配",
                "级别": (level.numeral if level else "") if m else "",
                "类别": Category.label_of(m["category"], "") if m else "",
            }
            t.add_row(*(cells[h] for h in heads))
        return t

    con = Console()
    print_fitted(build, ["采集时间", "分值", "类别"], con)


@cli.command()
@json_option
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """来源健康状况、待处理队列、发件箱和守护进程状态。"""
    from alerting.status import overview
    from core.errors import ConfigError
    from sentinel import config as config_mod

    file_error = None
    try:
        cfg = app.config
    except ConfigError as e:
        # A broken edit: its one line on stderr and exit status 2, as for any command; and
        # still the report, from what can be read of the file: what the daemon does meanwhile.
        cfg = config_mod.salvage(app.config_path)
        if cfg is None:
            raise
        click.echo(str(e), err=True)
        file_error, app._config = e, cfg
    data = overview(app.db, cfg)
    data["config_error"] = str(file_error) if file_error else None
    _status_report(data, cfg, as_json)
    if file_error:
        raise SystemExit(file_error.exit_code)


def _status_report(data: dict, cfg, as_json: bool) -> None:
    rows, outbox, daemon = data["sources"], data["outbox"], data["daemon"]
    total_posts, backlog, watchlist_error = data["posts"], data["backlog"], data["watchlist_error"]
    if as_json:
        print_json(data)
        return
    from alerting.compose.digest import no_content_hint
    from alerting.compose.views import source_labels
    from sentinel.terminal import (
        Console,
        Table,
        print_fitted,
    )  # crawled text: no markup, no escapes

    tz = cfg.tz
    con = Console()
    if data.get("config_error"):
        con.print(f"配置文件有误（以下按文件中仍可读取的部分显示）：{data['config_error']}")
    labels = source_labels(cfg)
    blind = []
    cells = []
    for r in rows:
        note = []
        if r["last_error_kind"]:
            note.append(f"{error_label(r['last_error_kind'])}：{(r['last_error'] or '')[:50]}")
        if r["robots_obeyed"] is False:
            note.append("未遵守 robots.txt")
        if r.get("next_attempt_at"):
            note.append(f"下次重试 {local(r['next_attempt_at'], tz)}")
        if r["last_warning"]:
            note.append(r["last_warning"][:60])
        if r["health"] == SourceHealth.NO_CONTENT:
            note.insert(0, f"{r['last_empty']} 个页面没有正文")
            blind.append((r["name"], labels.get(r["name"]) or r["name"]))
        name = labels.get(r["name"]) or r["name"]
        cells.append(
            {
                "来源": name if name == r["name"] else f"{name} （{r['name']}）",
                "类型": SourceKind.label_of(r["type"], "") if r["type"] else "",
                "状态": SourceHealth.label_of(r["health"]),
                "最近成功": local(r["last_success_at"], tz, "short")
                if r["last_success_at"]
                else "从未成功"
                if r["last_run_at"]
                else "—",
                "失败": str(r["consecutive_failures"]),
                "新增/已有": f"{r['last_new']}/{r['last_seen']}",
                "最近错误与备注": "；".join(note),
            }
        )

    def build(dropped: set[str]):
        # The state and the counts never wrap; names, errors and notes fold.
        t = Table(title="来源健康状况", pad_edge=False)
        heads = [
            h for h in ("来源", "类型", "状态", "最近成功", "失败", "新增/已有") if h not in dropped
        ]
        for h in heads:
            if h == "来源":
                t.add_column(h, overflow="fold", ratio=2, min_width=12)
            else:
                t.add_column(
                    h, no_wrap=True, justify="right" if "/" in h or h == "失败" else "left"
                )
        t.add_column("最近错误与备注", overflow="fold", ratio=3, min_width=14)
        for c in cells:
            t.add_row(*(c[h] for h in heads), c["最近错误与备注"])
        return t

    # Readable at 80 columns: when the columns do not fit, the least useful go first.
    print_fitted(build, ["新增/已有", "类型"], con)
    configured = {c.name: c for c in cfg.sources}
    for key, name in blind:
        con.print(
            f"提示：来源“{name}”的页面看不到正文，这些页面上的舆情无法被发现。"
            f"{no_content_hint(configured.get(key))}。"
        )
    con.print(f"帖子总数 {total_posts}，待匹配 {backlog}")
    con.print("发件箱：" + _outbox_line(outbox, tz))
    for f in outbox.get("failures", []) or []:
        con.print(f"  发送失败：{_failure_line(f)}")
    con.print(
        f"监测词表：{'有误（沿用上一版）：' + watchlist_error if watchlist_error else '正常'}"
    )
    if daemon:
        con.print(f"守护进程：{daemon['holder']}，最近心跳 {local(daemon['heartbeat_at'], tz)}")
        loaded = (
            local(daemon["config_loaded_at"], tz) if daemon.get("config_loaded_at") else "启动时"
        )
        if daemon.get("config_error"):
            con.print(
                f"守护进程配置：最新修改有误，未采用，沿用 {loaded} 加载的上一版有效配置："
                f"{daemon['config_error']}"
            )
        else:
            con.print(f"守护进程配置：正常（加载于 {loaded}）")
    else:
        con.print("守护进程：未运行")
    for w in data.get("workers") or []:
        where = f"，正在采集 {w['run'].rsplit(':', 1)[0]}" if w["run"] else ""
        con.print(
            f"采集节点：{w['name']}（{w['host'] or '?'}），已采集 {w['pages']} 个页面、{w['posts']} 条帖子，"
            f"最近活动 {local(w['last_seen_at'], tz)}{where}"
        )


def _outbox_line(outbox: dict, tz) -> str:
    parts = [f"{label} {outbox[k]}" for k, label in OutboxStatus.labels().items() if k in outbox]
    oldest = outbox.get("oldest_unsent_at")
    if oldest:
        parts.append(f"最早未发出 {local(oldest, tz)}")
    return "，".join(parts)


def _failure_line(f) -> str:
    if isinstance(f, dict):
        return "，".join(f"{k}: {v}" for k, v in f.items() if v not in (None, ""))
    return str(f)


@cli.command()
@click.option("--verbose", is_flag=True, help="记录更详细的日志")
@pass_app
def run(app: AppContext, verbose: bool) -> None:
    """运行守护进程：按计划采集所有来源，匹配、立案、通知、摘要和跟踪。"""
    import scheduler
    from core import logs

    cfg = app.config
    path = logs.setup(cfg.var_path, verbose=verbose, fmt=cfg.log_format)
    if not cfg.sources:
        click.echo("提示：配置文件中没有来源（sources），守护进程只处理已有数据和通知。", err=True)
    click.echo(f"日志写入 {path}；按 Ctrl-C 停止。", err=True)
    scheduler.exit_now(scheduler.run_daemon(cfg))


@cli.command()
@click.option(
    "--for",
    "for_seconds",
    type=float,
    default=None,
    metavar="SECONDS",
    help="运行这么多秒后自动停止",
)
@click.option("--dir", "var_dir", default="var", show_default=True, help="演示文件存放的文件夹")
@click.option("--speed", type=float, default=1.0, show_default=True, help="演示剧情的速度倍数")
@click.option(
    "--console-port",
    type=int,
    default=8080,
    show_default=True,
    help="网页控制台的端口（被占用时另选空闲端口；0 为任选）",
)
def demo(for_seconds: float | None, var_dir: str, speed: float, console_port: int) -> None:
    """演示：启动模拟校园网（GBK 论坛、新闻网站、RSS）、本地邮箱、守护进程和网页控制台。"""
    from demo.runner import run_demo

    run_demo(var_dir=var_dir, for_seconds=for_seconds, speed=speed, console_port=console_port)


@cli.group("config")
def config_group() -> None:
    """检查配置文件。"""


@config_group.command("check")
@json_option
@pass_app
def config_check(app: AppContext, as_json: bool) -> None:
    """校验 sentinel.yaml（以及其中列出的监测词表）。"""
    from core.errors import ConfigError
    from sentinel import config as config_mod
    from storage.db import mask_url

    if config_mod.default_file_missing(app.config_path):
        raise ConfigError(
            config_mod.DEFAULT_PATH,
            1,
            1,
            "找不到配置文件；可复制 sentinel.example.yaml 为 sentinel.yaml 后修改，或用 --config 指定",
        )
    cfg = app.config
    files = cfg.watchlist_files()
    # Every file the daemon will load: a broken watchlist or playbook fails the check
    # with its FILE:LINE:COL, as the daemon would refuse it.
    from alerting.incidents import playbooks
    from watchlists.loader import load as load_watchlists

    if files:  # a file named but not there is one the daemon cannot load: FILE:1:1
        load_watchlists(files)
    playbooks.for_config(cfg)
    database = mask_url(cfg.database)  # also when the URL cannot be parsed
    notes = []
    if not files:
        notes.append("watchlists 没有匹配到任何监测词表文件，系统将无法匹配任何帖子。")
    if cfg.smtp is None:
        notes.append("未配置 smtp，通知将保存在发件箱中，不会发出。")
    elif cfg.smtp.username and not cfg.smtp.password:
        notes.append("smtp 配置了 username，但环境变量 SENTINEL_SMTP_PASSWORD 未设置。")
    from alerting.notify.channels.smtp import smtp_warnings  # password over plain TCP

    notes.extend(smtp_warnings(cfg.smtp))
    if any(getattr(x, "render", False) and x.enabled for x in cfg.sources):
        from crawler.render import BrowserMissing, find_browser

        try:
            find_browser(cfg.browser_path)
        except BrowserMissing as e:
            notes.append(str(e))
    if as_json:
        print_json(
            {
                "ok": True,
                "sources": [x.name for x in cfg.sources],
                "watchlists": [str(f) for f in files],
                "database": database,
                "smtp": cfg.smtp is not None,
                "notes": notes,
            }
        )
        return
    click.echo(
        f"配置文件有效：{len(cfg.sources)} 个来源，{len(files)} 个监测词表文件，数据库 {database}"
    )
    for n in notes:
        click.echo(f"提示：{n}")
