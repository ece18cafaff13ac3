"""Incident commands: ``sentinel incidents`` and ``sentinel incident ...`` (the actions
come from the domain's table, alerting.incidents.service). Reports and users are in
``sentinel.cli.people``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from core.times import office_time
from core.vocabulary import Category, IncidentStatus, Severity, actor_label
from sentinel.cli.base import (
    DeferredGroup,
    IncidentId,
    SentinelCommand,
    VocabChoice,
    acting_user,
    cli,
    json_option,
    pass_app,
    print_json,
)


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


def _local(app, t: datetime | None, style: str = "minute") -> str:
    return office_time(t, app.config.tz, style=style)


def _viewer(by: str | None) -> str | None:
    """Who reads: ``--by``, else ``$SENTINEL_USER``; neither means the operator at the
    server's console, who sees everything."""
    return (by or os.environ.get("SENTINEL_USER") or "").strip() or None


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
@click.option("--status", type=VocabChoice(IncidentStatus), help="只列出这一状态的事件")
@click.option("--category", type=VocabChoice(Category), help="只列出这一类别的事件")
@click.option("--overdue", is_flag=True, help="只列出有逾期事项的事件")
@click.option("--open", "only_open", is_flag=True, help="不列出已结案的事件")
@click.option("--unit", metavar="UNIT", help="只列出这一单位跟进的事件")
@click.option(
    "--by",
    metavar="NAME",
    help="以这位用户的身份查看（单位信息管理员只看到本单位的事件）；默认 $SENTINEL_USER",
)
@json_option
@pass_app
def incidents_cmd(app, status, category, overdue, only_open, unit, by, as_json):
    """列出事件工单。"""
    from alerting.incidents import views

    now = _now()
    with app.db.session() as s:
        rows = views.summaries(
            s,
            views.query(
                s,
                now=now,
                status=status,
                category=category,
                overdue=overdue,
                include_closed=not only_open,
                unit=unit,
                viewer=_viewer(by),
            ),
            now,
        )
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("没有符合条件的事件。")
        return
    from rich.text import Text

    from sentinel.terminal import Console, cell, print_fitted

    columns = {  # header: (cell of a row, no_wrap column's justify)
        "编号": (
            # A related incident (关联事件) shows the closed one's number under its own.
            lambda r: Text(
                f"#{r['id']}" + (f"\n关联#{int(r['related_to'])}" if r.get("related_to") else "")
            ),
            "left",
        ),
        "状态": (lambda r: r["status_label"], "left"),
        "级别": (lambda r: (lv := Severity.get(r["severity"])) and lv.numeral or "未定级", "left"),
        "性质": (lambda r: r["category_label"], "left"),
        "帖文/网站": (lambda r: f"{r['posts']}/{r['sites']}", "right"),
        "立案": (lambda r: _local(app, r["opened_at"], "short"), "left"),
    }

    def title_of(r):
        flags = []
        if r["overdue"]:
            flags.append(f"逾期 {r['overdue']} 项")
        if r["reopened"]:
            flags.append(f"重开 {r['reopened']} 次")
        title = cell(r["title"] or "（无标题）")
        if flags:
            title.append(f" [{'；'.join(flags)}]", style="bold red")
        return title

    def build(dropped: set[str]):
        from sentinel.terminal import Table

        t = Table(title=f"事件工单（{len(rows)} 件）", show_lines=True, pad_edge=False)
        keep = [h for h in columns if h not in dropped]
        for h in keep:
            t.add_column(h, no_wrap=True, justify=columns[h][1])
        t.add_column("标题", min_width=14, overflow="fold", ratio=1)
        for r in rows:
            t.add_row(*(columns[h][0](r) for h in keep), title_of(r))
        return t

    # Readable at 80 columns: short columns never wrap and the title folds instead of
    # being cut; when they do not fit, the least useful columns go first.
    con = Console()
    print_fitted(build, ["帖文/网站", "立案", "性质"], con)


@cli.group("incident", cls=DeferredGroup)
def incident_group():
    """按处置程序办理一个事件工单。"""


def _people_lines(app, d: dict) -> list[str]:
    """The reports, replies, meetings and take-down checks of a ticket, as lines."""
    out = []
    if d["reports"]:
        out.append("报案：")
        for r in d["reports"]:
            view = f"  报案人认为：{r['category_label']}" if r["category_label"] else ""
            out.append(
                f"  {_local(app, r['at'])}  {r['by']}{'（' + r['unit'] + '）' if r['unit'] else ''}{view}"
            )
    if d["replies"]:
        out.append("网上答复：")
        for r in d["replies"]:
            step = {
                "approved": (r["decided_by"], r["decided_at"]),
                "rejected": (r["decided_by"], r["decided_at"]),
                "published": (r["published_by"], r["published_at"]),
            }.get(r["state"], (r["drafted_by"], r["drafted_at"]))
            said = f"  意见：{r['decision_note']}" if r["decision_note"] else ""
            where = f"  {r['published_url']}" if r["published_url"] else ""
            out.append(
                f"  第{r['version']}稿 {r['state_label']}（{step[0]} {_local(app, step[1])}）{said}{where}"
            )
            out.append(f"       {r['text'][:200]}")
    for m in d["meetings"]:
        out.append(f"网下答疑会：{_local(app, m['held_at'])} {m['place']}；参加：{m['attendees']}")
        out.append(f"  问题：{m['questions']}")
        out.append(f"  解答：{m['answers']}")
    if d["takedown"]:
        out.append("删帖复查：")
        for t in d["takedown"]:
            out.append(
                f"  {t['state_label']}  {_local(app, t['checked_at'])}（共查 {t['checks']} 次）  {t['url']}"
            )
    return out


@incident_group.command("show")
@click.argument("incident_id", type=IncidentId())
@click.option("--by", metavar="NAME", help="以这位用户的身份查看；默认 $SENTINEL_USER")
@json_option
@pass_app
def show_cmd(app, incident_id, by, as_json):
    """查看工单：研判、处置清单、逐级报告、答复、帖文和处置记录。"""
    from alerting.compose.views import source_label
    from alerting.incidents import views

    with _incident(app, incident_id) as (s, inc):
        d = views.detail(s, inc, _now(), config=app.config, viewer=_viewer(by))
    if as_json:
        print_json(d)
        return
    a, m = d["assessment"], d["measured"]
    out = [
        f"事件 #{d['id']}：{d['title']}",
        f"  状态：{d['status_label']}  下一步：{'、'.join(d['next_steps_label']) or '无'}"
        + (f"  关联事件：#{d['related_to']}" if d.get("related_to") else ""),
        f"  性质：{d['category_label'] or '未定性'}  危害程度：{d['severity_label'] or '未定级'}  评分：{d['score']}",
        f"  立案：{_local(app, d['opened_at'])}  负责人：{d['assignee'] or '未指派'}"
        + (f"  报案人：{d['reporter']}" if d["reporter"] else "")
        + (f"  责任单位：{'、'.join(d['units'])}" if d["units"] else ""),
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
        out.append(
            f"  首发来源：{source_label(app.config, fs.get('source')) or fs.get('site')}（{fs.get('site')}）"
            f" {_local(app, fs.get('time'))} {fs.get('url')}"
        )
    if d["checklist"]:
        out.append("处置清单：")
        for i, it in enumerate(d["checklist"], 1):
            mark = "✔" if it["done_at"] else ("✘ 逾期" if it["overdue"] else "☐")
            done = (
                f" 完成于 {_local(app, it['done_at'])}（{actor_label(it['done_by'])}）"
                if it["done_at"]
                else ""
            )
            out.append(f"  {i}. {mark} {it['title']} 期限 {_local(app, it['due_at'])}{done}")
            if it["means"]:
                out.append(f"       {it['means']}")
    out += _people_lines(app, d)
    if d["escalations"]:
        out.append("逐级报告：")
        for e in d["escalations"]:
            ack = (
                f"已确认（{e['acked_by']} {_local(app, e['acked_at'])}）"
                if e["acked_at"]
                else f"待确认，期限 {_local(app, e['ack_due_at'])}"
            )
            groups = "、".join(app.config.group_label(g) for g in e["groups"])
            out.append(f"  第{e['level']}级 → {groups}  {_local(app, e['sent_at'])}  {ack}")
    if d["evidence"]:
        n_files = sum(1 for e in d["evidence"] if e["file_id"])
        out.append(
            f"证据：{len(d['evidence'])} 份{f'（其中文件 {n_files} 份）' if n_files else ''}"
            f"（sentinel incident evidence {d['id']} --out 证据包.zip）"
        )
    out.append(f"帖文（{len(d['posts'])}）：")
    for p in d["posts"][:20]:
        dup = "  [转载]" if p["duplicate_of_id"] else ""
        where = source_label(app.config, p["source"]) or p["site"]
        out.append(
            f"  {_local(app, p['published_at'] or p['fetched_at'])}  {where}  {(p['title'] or '（无标题）')[:40]}{dup}"
        )
    out.append("处置记录：")
    for e in d["events"]:
        out.append(f"  {_local(app, e['at'])}  {e['actor_label']}  {e['label']}  {e['note'] or ''}")
    click.echo("\n".join(out))


# -- actions: one command per entry of the domain's action table -------------------------
def _option_for(name: str, field) -> click.Parameter:
    """A click parameter for one field of an action's values (see alerting.incidents.service)."""
    from typing import get_origin

    from core.vocabulary import vocabulary_of

    vocab = vocabulary_of(field)
    kind = VocabChoice(vocab) if vocab else None
    flag = "--" + name.replace("_", "-")
    if (field.json_schema_extra or {}).get("file"):
        return click.Option(
            [flag, name],
            multiple=True,
            required=field.is_required(),
            type=click.Path(dir_okay=False),
            help=field.description,
        )
    if (field.json_schema_extra or {}).get("argument"):
        return click.Argument([name], type=kind, help=field.description)
    if field.annotation is bool:
        return click.Option([flag, name], is_flag=True, help=field.description)
    if get_origin(field.annotation) is list:
        return click.Option([flag, name], multiple=True, help=field.description)
    if name == "by":
        return click.Option(
            [flag, name], metavar="NAME", help=f"{field.description}；默认 $SENTINEL_USER"
        )
    return click.Option(
        [flag, name], type=kind, required=field.is_required(), help=field.description
    )


def _action_command(action) -> click.Command:
    params: list[click.Parameter] = [click.Argument(["incident_id"], type=IncidentId())]
    params += [_option_for(n, f) for n, f in action.values.model_fields.items()]

    @json_option
    @pass_app
    def run(app, incident_id: int, as_json: bool, **values):
        from alerting.incidents import service

        values = {k: v for k, v in values.items() if v is not None and v != ()}
        values["by"] = acting_user(values.get("by"))
        for (
            name,
            f,
        ) in action.values.model_fields.items():  # files named on the command line: read them
            if (f.json_schema_extra or {}).get("file") and name in values:
                from alerting.incidents.files import read_path

                values[name] = [read_path(path, app.config) for path in values[name]]
        with app.db.session() as s:
            out = service.perform(
                service.Context(s, app.config, _outbox(app), _now()),
                incident_id,
                action.name,
                values,
            )
        _done(app, as_json, incident_id, out.message, out.details)

    cmd = click.command(action.name, cls=SentinelCommand, help=f"{action.title}：{action.help}")(
        run
    )
    cmd.params[:0] = params
    return cmd


def _register_actions() -> None:
    from alerting.incidents.service import ACTIONS

    for action in ACTIONS.values():
        incident_group.add_command(_action_command(action))


incident_group.load_deferred = _register_actions  # the table costs most of a second


# -- evidence and review -------------------------------------------------------------
@incident_group.command("evidence")
@click.argument("incident_id", type=IncidentId())
@click.option("--out", type=click.Path(dir_okay=False), help="把证据包（zip）写入这个文件")
@click.option("--collect", is_flag=True, help="立即固定每条帖文的快照（任何类别）")
@click.option(
    "--by",
    metavar="NAME",
    help="操作人（查看时以其身份查看；与 --collect 一起用时记为固定证据的人）；默认 $SENTINEL_USER",
)
@json_option
@pass_app
def evidence_cmd(app, incident_id, out, collect, by, as_json):
    """固定证据：列出事件的证据；--out 把证据包导出为 zip 文件。"""
    from alerting.incidents import evidence, roles, views

    result: dict = {}
    with _incident(app, incident_id) as (s, inc):
        viewer = acting_user(by) if collect else _viewer(by)
        if viewer:
            roles.require_see(s, viewer, inc)
        if collect:
            result["added"] = len(evidence.collect(s, inc, by=viewer, now=_now()))
        if out:
            result["export"] = evidence.export(s, inc, out, now=_now())
        items = views.detail(s, inc, _now())["evidence"]
    if as_json:
        print_json({"incident": incident_id, "evidence": items, **result})
        return
    if not items:
        click.echo(f"事件 #{incident_id} 尚无证据（第三类事件自动固定；其他类别可加 --collect）。")
    for e in items:
        if e["file_id"]:
            click.echo(
                f"  文件 {e['filename']}（{e['media_type']}，{e['size']} 字节）  SHA-256 {e['sha256']}  "
                f"{e['added_by']} {_local(app, e['added_at'])}"
            )
        else:
            click.echo(
                f"  快照 #{e['snapshot_id']}  帖文 #{e['post_id']}  SHA-256 {e['sha256']}  "
                f"{_local(app, e['added_at'])}"
            )
    if "export" in result:
        ex = result["export"]
        state = "哈希全部校验一致" if ex["verified"] else "注意：有快照哈希校验不一致"
        click.echo(f"证据包已写入 {ex['file']}（{ex['items']} 份，{state}）")


@incident_group.command("review")
@click.argument("incident_id", type=IncidentId())
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="输出文件：文件名.html 或 文件名.md",
)
@click.option("--by", metavar="NAME", help="以这位用户的身份生成；默认 $SENTINEL_USER")
@json_option
@pass_app
def review_cmd(app, incident_id, out, by, as_json):
    """总结评估：生成事件的总结评估报告（时间线、传播图、来源、各项期限）。"""
    from alerting.incidents import review

    fmt = review.format_of(out)
    with _incident(app, incident_id) as (s, inc):
        text = review.render(s, inc, app.config, _now(), fmt, viewer=_viewer(by))
    path = review.write(out, text)
    if as_json:
        print_json({"incident": incident_id, "file": str(path), "format": fmt})
    else:
        click.echo(f"总结评估报告已写入 {path}")
