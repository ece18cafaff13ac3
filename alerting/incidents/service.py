"""The actions people take on a ticket, as one table.

Each ``Action`` names a domain function in ``actions`` (or ``escalation``), the values
it takes (a pydantic model of ``values`` whose field descriptions are the help text the
office reads) and what to say when it is done. The CLI builds its ``sentinel incident …`` commands
from this table and the web console its forms, so both call the same function with the
same checks; neither adds rules of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from alerting.incidents import actions, files, meeting, replies, units, views
from alerting.incidents.escalation import acknowledge
from alerting.incidents.values import (
    AssessValues,
    AssignValues,
    AttachValues,
    CheckValues,
    ClassifyValues,
    CloseValues,
    EscalateValues,
    MeetingValues,
    NoteValues,
    PublishValues,
    RejectValues,
    ReplyValues,
    ResolveValues,
    UnitValues,
    Values,
    WithNote,
    explain,
)
from alerting.incidents.workflow import WorkflowError, get_incident
from core.vocabulary import Category


@dataclass
class Context:
    """What an action runs with besides its values."""

    session: Session
    config: Any
    outbox: Any
    now: datetime


@dataclass(frozen=True)
class Action:
    name: str
    title: str  # what the office calls it, e.g. 确认收到
    help: str  # one sentence for --help and the console
    values: type[Values]
    run: Callable[[Context, Any, Any], dict | None]
    done: Callable[[Any, dict], str]


def _assess(c: Context, inc, v: AssessValues) -> dict:
    m = actions.assess(
        c.session,
        inc,
        config=c.config,
        outbox=c.outbox,
        now=c.now,
        by=v.by,
        cause=v.cause,
        state=v.state,
        development=v.development,
        scope=v.scope,
        measures=v.measures,
        severity=v.severity,
        category=v.category,
        note=v.note,
    )
    return {"measured": m}


def _escalate(c: Context, inc, v: EscalateValues) -> dict:
    r = actions.escalate(
        c.session,
        inc,
        config=c.config,
        outbox=c.outbox,
        now=c.now,
        by=v.by,
        note=v.note,
        groups=list(v.to) or None,
    )
    return {"escalation": r}


def _ack(c: Context, inc, v: WithNote) -> dict:
    return {"ack": acknowledge(c.session, inc.id, v.by, c.now, note=v.note, config=c.config)}


def _classify(c: Context, inc, v: ClassifyValues) -> None:
    # The category first: a raised severity then moves the chain onto the rule that
    # covers both the new category and the new severity.
    actions.classify(c.session, inc, v.category, config=c.config, now=c.now, by=v.by, note=v.note)
    if v.severity:
        actions.set_severity(
            c.session, inc, v.severity, config=c.config, outbox=c.outbox, now=c.now, by=v.by
        )


def _check(c: Context, inc, v: CheckValues) -> dict:
    item = actions.check(
        c.session, inc, v.item, config=c.config, now=c.now, by=v.by, note=v.note, undo=v.undo
    )
    return {"item": item.key, "item_title": item.title}


def _reply(c: Context, inc, v: ReplyValues) -> dict:
    r = replies.draft(
        c.session, inc, v.text, by=v.by, config=c.config, outbox=c.outbox, now=c.now, hold=v.hold
    )
    return {"reply": replies.to_dict(r)}


def _reply_step(step):
    def run(c: Context, inc, v) -> dict:
        kw = {"note": v.note} if hasattr(v, "note") else {}
        if step is replies.publish:
            r = step(c.session, inc, by=v.by, config=c.config, now=c.now, url=v.url, **kw)
        else:
            r = step(c.session, inc, by=v.by, config=c.config, outbox=c.outbox, now=c.now, **kw)
        return {"reply": replies.to_dict(r)}

    return run


def _meeting(c: Context, inc, v: MeetingValues) -> dict:
    m = meeting.record_meeting(
        c.session,
        inc,
        held_at=v.at,
        place=v.place,
        attendees=v.attendees,
        questions=v.questions,
        answers=v.answers,
        by=v.by,
        config=c.config,
        now=c.now,
    )
    return {"meeting": m.id}


def _attach(c: Context, inc, v: AttachValues) -> dict:
    items = files.attach(
        c.session, inc, list(v.file), by=v.by, config=c.config, now=c.now, note=v.note
    )
    return {
        "files": [{"evidence_id": i.id, "filename": i.filename, "sha256": i.sha256} for i in items]
    }


def _v(r: dict) -> int:
    return r["reply"]["version"]


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "assess",
            "快速研判",
            "测算传播范围并记录研判意见（已报案 → 研判中）。",
            AssessValues,
            _assess,
            lambda v, r: "已记录研判",
        ),
        Action(
            "escalate",
            "逐级报告",
            "立即报告下一级（研判中 → 已报告）。",
            EscalateValues,
            _escalate,
            lambda v, r: (
                f"已报告第{r['escalation']['level']}级：{'、'.join(r['escalation']['group_labels'])}"
            ),
        ),
        Action(
            "ack",
            "确认收到",
            "确认收到报告（该级报告的催办随之停止）。",
            WithNote,
            _ack,
            lambda v, r: f"{v.by} 已确认收到",
        ),
        Action(
            "assign",
            "指派",
            "指派负责人（跟踪人）；舆情办或学院领导。",
            AssignValues,
            lambda c, inc, v: actions.assign(c.session, inc, v.name, now=c.now, by=v.by),
            lambda v, r: f"已指派给 {v.name}",
        ),
        Action(
            "classify",
            "定性分类",
            "确认性质类别（已报告 → 分类处理中），生成该类别的处置清单。",
            ClassifyValues,
            _classify,
            lambda v, r: f"已定性为{Category.parse(v.category).plan_name}",
        ),
        Action(
            "check",
            "完成事项",
            "勾选处置清单中的一项并填写说明。",
            CheckValues,
            _check,
            lambda v, r: f"{'已撤销' if v.undo else '已完成'}：{r['item_title']}",
        ),
        Action(
            "note",
            "备注",
            "在处置记录中添加备注（单位信息管理员可为本单位的事件补充情况）。",
            NoteValues,
            lambda c, inc, v: actions.add_note(c.session, inc, v.text, now=c.now, by=v.by),
            lambda v, r: "已记录备注",
        ),
        Action(
            "resolve",
            "转入跟踪",
            "处置完毕，转入动态跟踪（分类处理中 → 动态跟踪中）。",
            ResolveValues,
            lambda c, inc, v: actions.resolve(
                c.session,
                inc,
                config=c.config,
                now=c.now,
                by=v.by,
                note=v.note,
                tracker=v.tracker,
                force=v.force,
                outbox=c.outbox,
            ),
            lambda v, r: "已转入动态跟踪",
        ),
        Action(
            "reopen",
            "重新打开",
            "重新打开已跟踪或已结案的事件。",
            WithNote,
            lambda c, inc, v: actions.reopen(c.session, inc, now=c.now, by=v.by, note=v.note),
            lambda v, r: "已重新打开",
        ),
        Action(
            "close",
            "结案",
            "总结评估后结案（动态跟踪中 → 已结案）。",
            CloseValues,
            lambda c, inc, v: actions.close(c.session, inc, now=c.now, by=v.by, note=v.note),
            lambda v, r: "已结案",
        ),
        Action(
            "reply",
            "起草答复",
            "起草网上答复并送学院领导审定（舆情办或本单位信息管理员）；新稿取代旧稿。",
            ReplyValues,
            _reply,
            lambda v, r: (
                f"已起草第{_v(r)}稿答复"
                + ("（草稿，尚未送审）" if v.hold else "，已送学院领导审定")
            ),
        ),
        Action(
            "submit",
            "送审答复",
            "把最新的答复草稿送学院领导审定。",
            Values,
            _reply_step(replies.submit),
            lambda v, r: f"第{_v(r)}稿答复已送学院领导审定",
        ),
        Action(
            "approve",
            "审定通过",
            "学院领导审定通过待审的答复，之后才能发布。",
            WithNote,
            _reply_step(replies.approve),
            lambda v, r: f"已审定通过第{_v(r)}稿答复",
        ),
        Action(
            "reject",
            "退回修改",
            "学院领导退回待审的答复，并写明修改意见。",
            RejectValues,
            _reply_step(replies.reject),
            lambda v, r: f"已退回第{_v(r)}稿答复",
        ),
        Action(
            "publish",
            "发布答复",
            "发布已审定的答复并登记发布网址；该类别的答复事项随之完成。",
            PublishValues,
            _reply_step(replies.publish),
            lambda v, r: f"已发布第{_v(r)}稿答复",
        ),
        Action(
            "meeting",
            "登记答疑会",
            "登记网下答疑会：时间、地点、参加人员、问题和解答；答疑会事项随之完成。",
            MeetingValues,
            _meeting,
            lambda v, r: "已登记答疑会",
        ),
        Action(
            "attach",
            "补充材料",
            "为事件添加截图、照片、PDF 等材料（作为证据保存 SHA-256）。",
            AttachValues,
            _attach,
            lambda v, r: (
                f"已添加 {len(r['files'])} 份材料"
                if r["files"]
                else "这些文件已在事件中，未重复添加"
            ),
        ),
        Action(
            "unit",
            "指定责任单位",
            "把一个单位列为事件的责任单位：其信息管理员可查看并补充情况。",
            UnitValues,
            lambda c, inc, v: units.set_unit(c.session, inc, v.unit, by=v.by, now=c.now),
            lambda v, r: f"{v.unit} 已列为责任单位",
        ),
    )
}


@dataclass
class Outcome:
    """What an action did: the sentence to show, the ticket as it is now, and details."""

    message: str
    incident: dict
    details: dict


def perform(context: Context, incident_id: int, name: str, values: dict[str, Any]) -> Outcome:
    """Run one action on one ticket. Unknown actions and invalid values are
    ``WorkflowError`` with a sentence the office can act on; nothing is changed then."""
    action = ACTIONS.get(name)
    if action is None:
        raise WorkflowError(
            f"没有“{name}”这一操作；可用：{'、'.join(a.name for a in ACTIONS.values())}"
        )
    try:
        v = action.values.model_validate(values)
    except ValidationError as e:
        raise WorkflowError(explain(action.title, action.values, e)) from None
    inc = get_incident(context.session, incident_id)
    details = action.run(context, inc, v) or {}
    context.session.flush()
    return Outcome(
        action.done(v, details), views.summary(context.session, inc, context.now), details
    )
