"""Collection and operation commands: poll, posts, status, run, demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import func, select

from crawler.base import parse_duration
from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json
from sentinel.errors import SentinelError


def parse_age(value: str, option: str = "--for") -> float:
    """'30m', '2h', '7d' or a number of seconds → seconds; a bad value is a usage error
    with a Chinese message (the office reads it)."""
    try:
        return parse_duration(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' 不是有效的时间段；请写成 30m、2h、7d 或秒数（须大于 0）", param_hint=f"'{option}'"
        ) from None


ERROR_LABELS = {
    "timeout": "超时",
    "dns": "域名无法解析",
    "refused": "连接被拒绝",
    "connection": "连接中断",
    "http_4xx": "网页不存在或拒绝访问",
    "http_5xx": "网站服务器出错",
    "too_large": "内容过大",
    "redirect": "跳转过多",
    "offsite": "跳转到允许范围以外的网站",
    "robots": "robots.txt 禁止采集",
    "decode": "无法识别文字编码",
    "bad_feed": "不是有效的订阅源",
    "crawler": "采集进程出错",
    "crash": "程序错误",
    "storage": "保存失败（下次重新采集）",
    "parse": "页面无法解析",
    "bad_url": "网址无效",
}


def error_label(kind: str | None) -> str:
    """A source's error kind in the office's words (the kind itself stays in --json)."""
    return ERROR_LABELS.get(kind or "", kind or "错误")


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """'24h', '30d', '90m' → a UTC time that far back; an ISO date is taken as is."""
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


def local(t: datetime | None, tz) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M") if t else "—"


@cli.command()
@click.option("--source", "only", metavar="NAME", help="Poll only this source.")
@json_option
@pass_app
def poll(app: AppContext, only: str | None, as_json: bool) -> None:
    """一次采集：所有来源（或指定来源）采集、匹配、立案、发送通知后退出。"""
    from sentinel.pipeline import Pipeline

    pipeline = Pipeline(app.config, app.db)
    if not app.config.sources:
        raise SentinelError("配置文件中没有来源（sources）；请参照 sentinel.example.yaml 添加。")
    runs, stats, sent = pipeline.poll(only)
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


SENT_LABELS = {"sent": "发送成功", "retry": "待重试", "deferred": "暂缓", "failed": "失败"}


def _sent_line(sent: dict) -> str:
    if "error" in sent:
        return f"失败（{sent['error']}），消息仍在发件箱中，稍后重试"
    return "，".join(f"{SENT_LABELS.get(k, k)} {v}" for k, v in sent.items()) or "无"


@cli.command()
@click.option("--source", "only", metavar="NAME", help="Only posts of this source.")
@click.option("--since", default=None, metavar="AGE", help="Only posts fetched in this period: 24h, 7d...")
@click.option("--matched", is_flag=True, help="Only posts that mention a watched entity.")
@click.option("--alerts", is_flag=True, help="Only posts the office must act on.")
@click.option("--limit", default=100, show_default=True, help="At most this many posts.")
@json_option
@pass_app
def posts(app: AppContext, only, since, matched, alerts, limit, as_json) -> None:
    """列出已采集的帖子（标题、来源、链接、时间、匹配分值）。"""
    from storage.models import Match, Post, Source

    since_t = parse_since(since)
    with app.db.session() as s:
        q = (
            select(Post, Source.name, Match)
            .join(Source, Source.id == Post.source_id)
            .outerjoin(Match, Match.post_id == Post.id)
            .order_by(Post.fetched_at.desc(), Post.id.desc())
            .limit(limit)
        )
        if only:
            q = q.where(Source.name == only)
        if since_t:
            q = q.where(Post.fetched_at >= since_t)
        if matched:
            q = q.where(Match.mentioned.is_(True))
        if alerts:
            q = q.where(Match.alert.is_(True))
        rows = s.execute(q).all()
        if only and not rows and only not in {x.name for x in app.config.sources}:
            if s.scalar(select(Source.id).where(Source.name == only)) is None:
                names = ", ".join(x.name for x in app.config.sources) or "（无）"
                raise SentinelError(f"没有名为 '{only}' 的来源；已配置的来源：{names}")
    if as_json:
        print_json([_post_json(p, src, m) for p, src, m in rows])
        return
    if not rows:
        click.echo("没有符合条件的帖子。")
        return
    from sentinel.terminal import Console, Table  # crawled text: no markup, no escapes

    tz = app.config.tz
    t = Table(title=f"帖子（{len(rows)} 条）")
    for col in ("ID", "标题", "来源", "发布时间", "采集时间", "分值", "级别", "类别"):
        t.add_column(col)
    for p, src, m in rows:
        t.add_row(
            str(p.id),
            (p.title or p.text[:30])[:40],
            src,
            local(p.published_at, tz),
            local(p.fetched_at, tz),
            str(m.score) if m else "未匹配",
            m.severity or "" if m else "",
            m.category or "" if m else "",
        )
    Console().print(t)


def _post_json(p, source_name: str, m) -> dict:
    return {
        "id": p.id,
        "source": source_name,
        "url": p.url,
        "title": p.title,
        "text": p.text,
        "author": p.author,
        "published_at": p.published_at,
        "fetched_at": p.fetched_at,
        "duplicate_of": p.duplicate_of_id,
        "replies": p.replies,
        "views": p.views,
        "match": None
        if m is None
        else {
            "mentioned": m.mentioned,
            "alert": m.alert,
            "score": m.score,
            "severity": m.severity,
            "category": m.category,
            "hits": m.hits,
        },
    }


@cli.command()
@json_option
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """来源健康状况、待处理队列、发件箱和守护进程状态。"""
    from storage import lock
    from storage.models import Match, Post, Source

    cfg = app.config
    configured = {s.name: s for s in cfg.sources}
    with app.db.session() as s:
        sources = {x.name: x for x in s.scalars(select(Source))}
        backlog = s.scalar(
            select(func.count(Post.id)).outerjoin(Match, Match.post_id == Post.id).where(Match.id.is_(None))
        )
        total_posts = s.scalar(select(func.count(Post.id)))
    daemon = lock.current(app.db)
    outbox = _outbox_status(app)
    watchlist_error = _watchlist_error(app)
    rows = []
    for name in sorted(set(configured) | set(sources)):
        src = sources.get(name)
        c = configured.get(name)
        rows.append(
            {
                "name": name,
                "type": c.type if c else (src.type if src else None),
                "configured": c is not None,
                "enabled": bool(c and c.enabled),
                "robots_obeyed": bool(c.obey_robots) if c else None,
                "last_run_at": src.last_run_at if src else None,
                "last_success_at": src.last_success_at if src else None,
                "last_error_at": src.last_error_at if src else None,
                "last_error_kind": src.last_error_kind if src else None,
                "last_error": src.last_error if src else None,
                "consecutive_failures": src.consecutive_failures if src else 0,
                "last_new": src.last_new if src else 0,
                "last_seen": src.last_seen if src else 0,
                "last_warning": src.last_warning if src else None,
                "healthy": bool(src and src.consecutive_failures == 0 and src.last_success_at),
            }
        )
    data = {
        "sources": rows,
        "posts": total_posts,
        "backlog": backlog,
        "outbox": outbox,
        "watchlist_error": watchlist_error,
        "daemon": None
        if daemon is None
        else {"holder": daemon.holder, "heartbeat_at": daemon.heartbeat_at, "started_at": daemon.started_at},
    }
    if as_json:
        print_json(data)
        return
    from sentinel.terminal import Console, Table  # crawled text: no markup, no escapes

    tz = cfg.tz
    con = Console()
    t = Table(title="来源健康状况")
    for col in ("来源", "类型", "最近成功", "连续失败", "最近错误", "上次新增/已有", "备注"):
        t.add_column(col)
    for r in rows:
        note = []
        if not r["configured"]:
            note.append("已不在配置中")
        elif not r["enabled"]:
            note.append("已停用")
        if r["robots_obeyed"] is False:
            note.append("未遵守 robots.txt")
        if r["last_warning"]:
            note.append(r["last_warning"][:40])
        err = f"{error_label(r['last_error_kind'])}：{(r['last_error'] or '')[:50]}" if r["last_error_kind"] else ""
        t.add_row(
            r["name"],
            r["type"] or "",
            local(r["last_success_at"], tz) if r["last_success_at"] else "从未成功" if r["last_run_at"] else "尚未运行",
            str(r["consecutive_failures"]),
            err,
            f"{r['last_new']}/{r['last_seen']}",
            "；".join(note),
        )
    con.print(t)
    con.print(f"帖子总数 {total_posts}，待匹配 {backlog}")
    con.print("发件箱：" + _outbox_line(outbox, tz))
    for f in outbox.get("failures", []) or []:
        con.print(f"  发送失败：{_failure_line(f)}")
    con.print(f"监测词表：{'有误（沿用上一版）：' + watchlist_error if watchlist_error else '正常'}")
    if daemon:
        con.print(f"守护进程：{daemon.holder}，最近心跳 {local(daemon.heartbeat_at, tz)}")
    else:
        con.print("守护进程：未运行")


OUTBOX_LABELS = {
    "pending": "待发送",
    "grouping": "合并等待中",
    "retry": "等待重试",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "silenced": "已静默",
}


def _outbox_line(outbox: dict, tz) -> str:
    parts = [f"{label} {outbox[k]}" for k, label in OUTBOX_LABELS.items() if k in outbox]
    oldest = outbox.get("oldest_unsent_at")
    if oldest:
        parts.append(f"最早未发出 {local(oldest, tz)}")
    return "，".join(parts)


def _failure_line(f) -> str:
    if isinstance(f, dict):
        return "，".join(f"{k}: {v}" for k, v in f.items() if v not in (None, ""))
    return str(f)


def _outbox_status(app: AppContext) -> dict:
    from alerting.notify.outbox import Outbox

    return Outbox(app.db, app.config).status()


def _watchlist_error(app: AppContext) -> str | None:
    """What the daemon would say on its next reload (schema only: no jieba start-up)."""
    from watchlists.loader import load

    try:
        load(app.config.watchlist_files())
    except SentinelError as e:
        return str(e)
    return None


@cli.command()
@click.option("--verbose", is_flag=True, help="Log more detail.")
@pass_app
def run(app: AppContext, verbose: bool) -> None:
    """运行守护进程：按计划采集所有来源，匹配、立案、通知、摘要和跟踪。"""
    import scheduler
    from sentinel import logs

    cfg = app.config
    path = logs.setup(cfg.var_path, verbose=verbose)
    if not cfg.sources:
        click.echo("提示：配置文件中没有来源（sources），守护进程只处理已有数据和通知。", err=True)
    click.echo(f"日志写入 {path}；按 Ctrl-C 停止。", err=True)
    scheduler.run_daemon(cfg)


@cli.command()
@click.option("--for", "for_seconds", type=float, default=None, metavar="SECONDS",
              help="Stop by itself after this many seconds.")
@click.option("--dir", "var_dir", default="var", show_default=True, help="Where the demo keeps its files.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Scenario speed factor.")
def demo(for_seconds: float | None, var_dir: str, speed: float) -> None:
    """演示：启动模拟校园网（GBK 论坛、新闻网站、RSS）、本地邮箱和守护进程。"""
    from sentinel.demo_runner import run_demo

    run_demo(var_dir=var_dir, for_seconds=for_seconds, speed=speed)




@cli.group("config")
def config_group() -> None:
    """检查配置文件。"""


@config_group.command("check")
@json_option
@pass_app
def config_check(app: AppContext, as_json: bool) -> None:
    """校验 sentinel.yaml（以及其中列出的监测词表）。"""
    from sentinel import config as config_mod
    from sentinel.errors import ConfigError
    from storage.db import mask_url

    if config_mod.default_file_missing(app.config_path):
        raise ConfigError(
            config_mod.DEFAULT_PATH, 1, 1,
            "找不到配置文件；可复制 sentinel.example.yaml 为 sentinel.yaml 后修改，或用 --config 指定",
        )
    cfg = app.config
    files = cfg.watchlist_files()
    missing = [str(f) for f in files if not f.exists()]
    database = mask_url(cfg.database)  # also when the URL cannot be parsed
    notes = []
    if not files:
        notes.append("watchlists 没有匹配到任何监测词表文件，系统将无法匹配任何帖子。")
    if missing:
        notes.append(f"监测词表文件不存在：{'、'.join(missing)}")
    if cfg.smtp is None:
        notes.append("未配置 smtp，通知将保存在发件箱中，不会发出。")
    elif cfg.smtp.username and not cfg.smtp.password:
        notes.append("smtp 配置了 username，但环境变量 SENTINEL_SMTP_PASSWORD 未设置。")
    from alerting.notify.channels.smtp import smtp_warnings  # password over plain TCP

    notes.extend(smtp_warnings(cfg.smtp))
    if as_json:
        print_json({"ok": True, "sources": [x.name for x in cfg.sources], "watchlists": [str(f) for f in files],
                    "database": database, "smtp": cfg.smtp is not None, "notes": notes})
        return
    click.echo(f"配置文件有效：{len(cfg.sources)} 个来源，{len(files)} 个监测词表文件，数据库 {database}")
    for n in notes:
        click.echo(f"提示：{n}")
