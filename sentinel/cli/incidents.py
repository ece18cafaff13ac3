"""Incident commands: ``sentinel incidents``, ``sentinel incident ...``,
``sentinel report`` (报案 and the weekly report) and ``sentinel user ...``."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import click

from sentinel.cli.base import cli, json_option, pass_app, print_json

STATUS_CHOICES = ("reported", "assessing", "escalated", "handling", "tracking", "closed", "reopened")
CATEGORY_CHOICES = ("inquiry", "hype", "illegal", "constructive")


def _now() -> datetime:
    from storage.types import utcnow

    return utcnow()


def _outbox(app):
    from alerting.notify.outbox import Outbox

    return Outbox(app.db, app.config, now=_now)


@contextmanager
def _incident(app, incident_id: int) -> Iterator[tuple]:
    from alerting.incidents.workflow import get_incident

    with app.db.session() as s:
        yield s, get_incident(s, incident_id)


def _local(app, t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return t.astimezone(app.config.tz).strftime(fmt) if t else "—"


def _done(app, as_json: bool, incident_id: int, message: str, extra: dict | None = None) -> None:
    from alerting.incidents import views

    with _incident(app, incident_id) as (s, inc):
        data = views.summary(s, inc, _now())
    if as_json:
        data.update(extra or {})
        print_json(data)
    else:
        click.echo(f"{message}（事件 #{incident_id}，当前状态：{data['status_label']}）")


# -- listing ---------------------------------------------------------------------------
@cli.command("incidents")
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="Only incidents in this state.")
@click.option("--category", type=click.Choice(CATEGORY_CHOICES), help="Only incidents of this category.")
@click.option("--overdue", is_flag=True, help="Only incidents with checklist items past their deadline.")
@click.option("--open", "only_open", is_flag=True, help="Leave out closed incidents.")
@json_option
@pass_app
def incidents_cmd(app, status, category, overdue, only_open, as_json):
    """List incident tickets (事件工单列表)."""
    from alerting.incidents import views

    now = _now()
    with app.db.session() as s:
        rows = [views.summary(s, i, now) for i in views.query(
            s, now=now, status=status, category=category, overdue=overdue, include_closed=not only_open)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("没有符合条件的事件。")
        return
    for r in rows:
        flags = []
        if r["overdue"]:
            flags.append(f"逾期 {r['overdue']} 项")
        if r["reopened"]:
            flags.append(f"重开 {r['reopened']} 次")
        click.echo(
            f"#{r['id']:<4} {r['status_label']:<6} {r['severity_label'] or '未定级':<7} "
            f"{r['category_label'] or '未定性':<7} 帖文 {r['posts']:>3} 网站 {r['sites']:>2}  "
            f"{_local(app, r['opened_at'], '%m-%d %H:%M')}  {r['title'][:40]}"
            + (f"  [{'；'.join(flags)}]" if flags else "")
        )


@cli.group("incident")
def incident_group():
    """Work one incident ticket through the response plan (处置程序)."""


@incident_group.command("show")
@click.argument("incident_id", type=int)
@json_option
@pass_app
def show_cmd(app, incident_id, as_json):
    """Show a ticket: assessment, checklist, escalations, posts and its log."""
    from alerting.incidents import views

    with _incident(app, incident_id) as (s, inc):
        d = views.detail(s, inc, _now())
    if as_json:
        print_json(d)
        return
    a, m = d["assessment"], d["measured"]
    out = [
        f"事件 #{d['id']}：{d['title']}",
        f"  状态：{d['status_label']}（{d['status']}）  下一步：{', '.join(d['next_steps']) or '无'}",
        f"  性质：{d['category_label'] or '未定性'}  危害程度：{d['severity_label'] or '未定级'}  评分：{d['score']}",
        f"  立案：{_local(app, d['opened_at'])}  负责人：{d['assignee'] or '未指派'}"
        + (f"  报案人：{d['reporter']}" if d["reporter"] else ""),
        f"  确认：{(d['acknowledged_by'] + ' ' + _local(app, d['acknowledged_at'])) if d['acknowledged_by'] else '尚未确认'}",
        "研判：",
        f"  原因：{a['cause'] or '—'}",
        f"  现状：{a['state'] or '—'}",
        f"  发展趋势：{a['development'] or '—'}",
        f"  范围：{a['scope'] or '—'}",
        f"  处置措施：{a['measures'] or '—'}",
    ]
    fs = m.get("first_source") or {}
    if fs:
        out.append(f"  首发来源：{fs.get('site')} {_local(app, fs.get('time'))} {fs.get('url')}")
    if d["checklist"]:
        out.append("处置清单：")
        for i, it in enumerate(d["checklist"], 1):
            mark = "✔" if it["done_at"] else ("✘ 逾期" if it["overdue"] else "☐")
            done = f" 完成于 {_local(app, it['done_at'])}（{it['done_by']}）" if it["done_at"] else ""
            out.append(f"  {i}. {mark} {it['title']} [{it['key']}] 期限 {_local(app, it['due_at'])}{done}")
    if d["escalations"]:
        out.append("逐级报告：")
        for e in d["escalations"]:
            ack = f"已确认（{e['acked_by']} {_local(app, e['acked_at'])}）" if e["acked_at"] else f"待确认，期限 {_local(app, e['ack_due_at'])}"
            out.append(f"  第{e['level']}级 → {'、'.join(e['groups'])}  {_local(app, e['sent_at'])}  {ack}")
    if d["evidence"]:
        out.append(f"证据：{len(d['evidence'])} 份（sentinel incident evidence {d['id']} --out 证据包.zip）")
    out.append(f"帖文（{len(d['posts'])}）：")
    for p in d["posts"][:20]:
        dup = "  [转载]" if p["duplicate_of_id"] else ""
        out.append(f"  {_local(app, p['published_at'] or p['fetched_at'])}  {p['site']}  {p['title'][:40]}{dup}")
    out.append("处置记录：")
    for e in d["events"]:
        out.append(f"  {_local(app, e['at'])}  {e['actor']}  {e['label']}  {e['note'] or ''}")
    click.echo("\n".join(out))


# -- actions -----------------------------------------------------------------------------
def _by(f):
    return click.option("--by", "by", required=True, metavar="NAME", help="Who does it (recorded in the log).")(f)


def _note(f):
    return click.option("--note", default=None, help="A note for the log.")(f)


@incident_group.command("assess")
@click.argument("incident_id", type=int)
@click.option("--cause", help="原因")
@click.option("--state", help="现状")
@click.option("--development", help="可能的发展趋势")
@click.option("--scope", help="影响范围（不填则用系统测算）")
@click.option("--measures", help="处置措施（不填则用预案建议）")
@click.option("--severity", type=click.Choice(("I", "II", "III", "IV")), help="危害程度")
@click.option("--category", type=click.Choice(CATEGORY_CHOICES), help="性质类别")
@_by
@_note
@json_option
@pass_app
def assess_cmd(app, incident_id, cause, state, development, scope, measures, severity, category, by, note, as_json):
    """快速研判: measure the spread and record the assessment (reported → assessing)."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        m = actions.assess(s, inc, config=app.config, now=_now(), by=by, cause=cause, state=state,
                           development=development, scope=scope, measures=measures, severity=severity,
                           category=category, note=note)
    _done(app, as_json, incident_id, "已记录研判", {"measured": m})


@incident_group.command("escalate")
@click.argument("incident_id", type=int)
@click.option("--to", "groups", multiple=True, help="Groups or addresses to tell instead of the rule's next level.")
@_by
@_note
@json_option
@pass_app
def escalate_cmd(app, incident_id, groups, by, note, as_json):
    """及时报告: tell the next level now (assessing → escalated)."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        r = actions.escalate(s, inc, config=app.config, outbox=_outbox(app), now=_now(), by=by, note=note,
                             groups=list(groups) or None)
    _done(app, as_json, incident_id, f"已报告第{r['level']}级：{'、'.join(r['groups'])}", {"escalation": r})


@incident_group.command("ack")
@click.argument("incident_id", type=int)
@_by
@_note
@json_option
@pass_app
def ack_cmd(app, incident_id, by, note, as_json):
    """Acknowledge the incident's reports (the escalation timer stops)."""
    from alerting.incidents.escalation import acknowledge

    with app.db.session() as s:
        r = acknowledge(s, incident_id, by, _now(), note=note)
    _done(app, as_json, incident_id, f"{by} 已确认收到", {"ack": r})


@incident_group.command("assign")
@click.argument("incident_id", type=int)
@click.argument("name")
@_by
@json_option
@pass_app
def assign_cmd(app, incident_id, name, by, as_json):
    """Assign the ticket to a user (负责人/跟踪人)."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        actions.assign(s, inc, name, now=_now(), by=by)
    _done(app, as_json, incident_id, f"已指派给 {name}")


@incident_group.command("classify")
@click.argument("incident_id", type=int)
@click.argument("category", type=click.Choice(CATEGORY_CHOICES))
@click.option("--severity", type=click.Choice(("I", "II", "III", "IV")), help="危害程度")
@_by
@_note
@json_option
@pass_app
def classify_cmd(app, incident_id, category, severity, by, note, as_json):
    """定性分类: confirm the category (escalated → handling); its checklist follows."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        if severity:
            actions.set_severity(s, inc, severity, now=_now(), by=by)
        actions.classify(s, inc, category, config=app.config, now=_now(), by=by, note=note)
    _done(app, as_json, incident_id, f"已定性为 {category}")


@incident_group.command("check")
@click.argument("incident_id", type=int)
@click.argument("item")
@click.option("--undo", is_flag=True, help="Mark the item not done again.")
@_by
@_note
@json_option
@pass_app
def check_cmd(app, incident_id, item, undo, by, note, as_json):
    """Tick a checklist item (by key, title or number) with a note."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        it = actions.check(s, inc, item, now=_now(), by=by, note=note, undo=undo)
        title = it.title
    _done(app, as_json, incident_id, f"{'已撤销' if undo else '已完成'}：{title}", {"item": item})


@incident_group.command("note")
@click.argument("incident_id", type=int)
@click.argument("text")
@_by
@json_option
@pass_app
def note_cmd(app, incident_id, text, by, as_json):
    """Add a note to the ticket's log."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        actions.add_note(s, inc, text, now=_now(), by=by)
    _done(app, as_json, incident_id, "已记录备注")


@incident_group.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--tracker", help="The person who follows it (动态跟踪人); default: the assignee.")
@click.option("--force", is_flag=True, help="Even with checklist items open (say why in --note).")
@_by
@_note
@json_option
@pass_app
def resolve_cmd(app, incident_id, tracker, force, by, note, as_json):
    """处置完毕, 转入动态跟踪 (handling → tracking)."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        actions.resolve(s, inc, config=app.config, now=_now(), by=by, note=note, tracker=tracker, force=force)
    _done(app, as_json, incident_id, "已转入动态跟踪")


@incident_group.command("reopen")
@click.argument("incident_id", type=int)
@_by
@_note
@json_option
@pass_app
def reopen_cmd(app, incident_id, by, note, as_json):
    """Reopen a tracked or closed incident."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        actions.reopen(s, inc, now=_now(), by=by, note=note)
    _done(app, as_json, incident_id, "已重新打开")


@incident_group.command("close")
@click.argument("incident_id", type=int)
@_by
@click.option("--note", required=True, help="总结评估意见 (required).")
@json_option
@pass_app
def close_cmd(app, incident_id, by, note, as_json):
    """总结评估后结案 (tracking → closed)."""
    from alerting.incidents import actions

    with _incident(app, incident_id) as (s, inc):
        actions.close(s, inc, now=_now(), by=by, note=note)
    _done(app, as_json, incident_id, "已结案")
