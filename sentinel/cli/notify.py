"""Notification commands: ``sentinel digest``, ``sentinel silence …``, ``sentinel outbox …``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from core.errors import SentinelError, write_output
from core.vocabulary import OutboxStatus, SilenceTarget
from sentinel.cli.base import (
    AppContext,
    VocabChoice,
    acting_user,
    cli,
    json_option,
    pass_app,
    print_json,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _duration(value: str, what: str) -> float:
    from sentinel.cli.core import parse_age

    return parse_age(value, what)


def _local(t: datetime | None, tz) -> str:
    from core.times import office_time

    return office_time(t, tz)


# -- digest ----------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="AGE",
    help="统计时段：1h、24h、7d，或日期（如 2026-11-20）",
)
@click.option("--out", "out", default=None, metavar="FILE.html", help="把摘要的 HTML 写入这个文件")
@click.option("--send", is_flag=True, help="发给收件人（存入发件箱并发送）")
@click.option(
    "--to", "to", multiple=True, metavar="GROUP", help="收件组或地址（默认 office，即舆情办）"
)
@json_option
@pass_app
def digest(
    app: AppContext, since: str, out: str | None, send: bool, to: tuple[str, ...], as_json: bool
) -> None:
    """匹配帖子摘要：按事件和类别分组，含监测覆盖情况。"""
    from alerting.digest import build_digest, queue_digest
    from alerting.notify.outbox import Outbox

    cfg = app.config
    from sentinel.cli.core import parse_since

    until = _now()
    start = parse_since(since)
    if start >= until:
        raise click.BadParameter(f"'{since}' 在当前时间之后", param_hint="'--since'")
    groups = list(to) or ["office"]
    if send and not cfg.addresses(groups) and not any(cfg.notify.channels.get(g) for g in groups):
        raise SentinelError(
            f"没有收件人：{'、'.join(groups)} 既不是 sentinel.yaml 中 recipients 的组，也不是电子邮件地址；"
            "请在 recipients 中添加，或用 --to 地址"
        )
    d = build_digest(app.db, cfg, start, until, name="manual")
    result = {**d.counts, "subject": d.subject}
    if out:
        write_output(out, d.html)
        result["out"] = str(out)
    if send:
        msg = queue_digest(app.db, cfg, d, to=groups)
        result["message_id"] = msg.message_id if msg else None
        result["outbox"] = Outbox(app.db, cfg).drain()
    if as_json:
        print_json(result)
        return
    if not out and not send:
        click.echo(d.text)
        return
    click.echo(d.subject)
    if out:
        click.echo(f"已写入 {out}")
    if send:
        r = result["outbox"]
        click.echo(
            f"已加入发件箱：发送成功 {r['sent']}，待重试 {r['retry']}，暂缓 {r['deferred']}，失败 {r['failed']}"
        )
        if cfg.smtp is None:
            click.echo(
                "提示：未配置 smtp，摘要保存在发件箱中；配置 smtp 后用 sentinel outbox send 发出。"
            )
        elif r["retry"]:
            click.echo(_RETRY_HINT)


_RETRY_HINT = "提示：有通知暂未发出（原因见 sentinel outbox），消息保留在发件箱中，稍后自动重试。"


# -- silences ----------------------------------------------------------------------------------
@cli.group()
def silence() -> None:
    """静默规则：在到期前不发送某事件、某来源或某关键词的通知。"""


@silence.command("add")
@click.option("--incident", "incident", type=int, default=None, help="按编号静默一个事件")
@click.option("--source", "source", default=None, help="按名称静默一个来源")
@click.option("--term", "term", default=None, help="静默仅因这个词命中的帖子")
@click.option(
    "--for",
    "duration",
    default="2h",
    show_default=True,
    metavar="AGE",
    help="静默多久：30m、2h、1d",
)
@click.option("--reason", default=None, help="原因（随静默记录保存）")
@click.option("--by", "by", metavar="NAME", help="操作人（舆情办工作人员）；默认 $SENTINEL_USER")
@json_option
@pass_app
def silence_add(app: AppContext, incident, source, term, duration, reason, by, as_json) -> None:
    """添加静默规则（--incident、--source、--term 三选一）。"""
    from alerting.notify.routing import add_silence

    by = acting_user(by)
    chosen = [
        (k, v)
        for k, v in (("incident", incident), ("source", source), ("term", term))
        if v is not None
    ]
    if len(chosen) != 1:
        raise SentinelError("请在 --incident、--source、--term 中指定且只指定一项")
    target, value = chosen[0]
    if target == "source":
        _known_source(app, source)
    now = _now()
    with app.db.session() as s:
        sil = add_silence(
            s,
            target=target,
            value=str(value),
            now=now,
            ends_at=now + timedelta(seconds=_duration(duration, "--for")),
            created_by=by,
            reason=reason,
        )
        data = _silence_dict(sil)
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"已添加静默规则 #{data['id']}：{_target_label(target)} {value}，至 {_local(data['ends_at'], app.config.tz)}"
        )


def _known_source(app: AppContext, name: str) -> None:
    """A silence on a misspelt source would silence nothing, silently: say so (it is
    still added: a source may be about to be configured)."""
    from sqlalchemy import select

    from storage.models import Source

    configured = [x.name for x in app.config.sources]
    if name in configured:
        return
    with app.db.session() as s:
        if s.scalar(select(Source.id).where(Source.name == name)) is not None:
            return
    click.echo(
        f"提示：没有名为 '{name}' 的来源（已配置：{', '.join(configured) or '无'}），请检查拼写；静默规则仍会添加。",
        err=True,
    )


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="包括已过期的静默")
@json_option
@pass_app
def silence_list(app: AppContext, show_all: bool, as_json: bool) -> None:
    """列出静默规则（默认只列生效中的）。"""
    from sqlalchemy import select

    from storage.models import Silence

    now = _now()
    with app.db.session() as s:
        q = select(Silence).order_by(Silence.id)
        if not show_all:
            q = q.where(Silence.ends_at > now)
        rows = [_silence_dict(x) for x in s.scalars(q)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("没有生效中的静默规则。")
    for r in rows:
        state = "生效中" if r["ends_at"] > now else "已到期"
        click.echo(
            f"#{r['id']} {_target_label(r['target'])} {r['value']}  至 {_local(r['ends_at'], app.config.tz)}"
            f"（{state}，{r['created_by']}）{'  ' + r['reason'] if r['reason'] else ''}"
        )


@silence.command("expire")
@click.argument("silence_id", type=int)
@click.option("--by", "by", metavar="NAME", help="操作人（舆情办工作人员）；默认 $SENTINEL_USER")
@json_option
@pass_app
def silence_expire(app: AppContext, silence_id: int, by, as_json: bool) -> None:
    """立即结束一条静默规则。"""
    from alerting.notify.routing import expire_silence

    by = acting_user(by)
    with app.db.session() as s:
        data = _silence_dict(expire_silence(s, silence_id, _now(), by=by))
    if as_json:
        print_json(data)
    else:
        click.echo(f"静默规则 #{silence_id} 已结束。")


def _target_label(t: str) -> str:
    return SilenceTarget.label_of(t)


def _silence_dict(x) -> dict:
    return {
        "id": x.id,
        "target": x.target,
        "value": x.value,
        "starts_at": x.starts_at,
        "ends_at": x.ends_at,
        "created_by": x.created_by,
        "reason": x.reason,
    }


# -- outbox ------------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option(
    "--status",
    "status",
    default=None,
    type=VocabChoice(OutboxStatus),
    help="只列出这一状态的通知。",
)
@click.option("--limit", default=50, show_default=True, help="最多列出多少条")
@json_option
@pass_app
@click.pass_context
def outbox(
    ctx: click.Context, app: AppContext, status: str | None, limit: int, as_json: bool
) -> None:
    """发件箱：列出通知及其发送状态；子命令 send、retry。"""
    if ctx.invoked_subcommand is not None:
        return
    from storage import listing

    with app.db.session() as s:
        rows = listing.outbox(s, status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    tz = app.config.tz
    if not rows:
        click.echo("发件箱为空。")
    from alerting.notify.channels import channel_types

    kinds = channel_types()
    for r in rows:
        when = _local(r["sent_at"] or r["next_attempt_at"] or r["created_at"], tz)
        err = f"  {r['last_error'][:80]}" if r["last_error"] else ""
        kind = kinds.get(r["channel"])
        channel = (kind.label if kind else "") or r["channel"]
        click.echo(
            f"#{r['id']} [{OutboxStatus.label_of(r['status'])}] {when} {channel} "
            f"{r['subject'][:60]} → {', '.join(map(str, r['recipients'] or []))}（尝试 {r['attempts']} 次）{err}"
        )


@outbox.command("send")
@json_option
@pass_app
def outbox_send(app: AppContext, as_json: bool) -> None:
    """立即发送所有到期的通知。"""
    from alerting.notify.outbox import Outbox

    r = Outbox(app.db, app.config).drain()
    if as_json:
        print_json(r)
    else:
        click.echo(
            f"发送成功 {r['sent']}，待重试 {r['retry']}，暂缓 {r['deferred']}，失败 {r['failed']}"
        )
        if r["retry"]:
            click.echo(_RETRY_HINT)


@outbox.command("retry")
@click.argument("message_id", type=int)
@pass_app
def outbox_retry(app: AppContext, message_id: int) -> None:
    """把一条发送失败的通知重新放回队列（内容不变，Message-ID 不变）。"""
    from alerting.notify.outbox import Outbox

    if not Outbox(app.db, app.config).retry(message_id):
        raise SentinelError(f"#{message_id} 不是发送失败或待重试的通知")
    click.echo(f"#{message_id} 已重新排队，下次发送时投递。")
