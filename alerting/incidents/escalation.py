"""Timely reporting (及时报告): level by level (逐级报告) and dual reporting (双重报告).

A rule in sentinel.yaml's ``escalation:`` covers an incident by severity and category
and lists levels; each level names the groups told at the same moment (leaders and the
superior department together is dual reporting) and ``ack_within``. When nobody
acknowledges a level in time, the next level is told; after the last level, a reminder
goes to the last level's groups at the notification repeat interval until acknowledged. ``acknowledge`` is the one function every way of
acknowledging calls (CLI today, a web page or a signed mail link later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.incidents import messages
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import get_incident, record
from core.vocabulary import Category
from storage.models import Escalation, Incident


@dataclass
class Level:
    notify: list[str]
    ack_within: float


def levels_for(config, incident: Incident) -> list[Level]:
    """The levels of the first rule covering the incident's severity and category."""
    for rule in getattr(config, "escalation", None) or []:
        if incident.severity not in rule.severity:
            continue
        if incident.category is None and set(rule.category) != set(Category.keys()):
            continue
        if incident.category is not None and incident.category not in rule.category:
            continue
        return [Level(list(lv.notify), float(lv.ack_within)) for lv in rule.levels]
    return []


def sent_levels(session: Session, incident: Incident) -> list[Escalation]:
    return list(
        session.scalars(select(Escalation).where(Escalation.incident_id == incident.id).order_by(Escalation.level))
    )


def _send(session, incident, level_no, lv: Level, *, config, outbox, now, actor, note) -> Escalation:
    esc = Escalation(
        incident_id=incident.id, level=level_no, groups=list(lv.notify), sent_at=now,
        ack_due_at=now + timedelta(seconds=lv.ack_within),
    )
    session.add(esc)
    session.flush()
    dual = len(lv.notify) > 1
    for group in lv.notify:  # the same moment for every group: dual reporting
        messages.send(
            session, outbox, key=f"escalation:{incident.id}:{level_no}:{group}", kind="escalation", to=[group],
            subject=f"{messages.tag(incident)}舆情报告（第{level_no}级{'，双重报告' if dual else ''}）：{incident.title}",
            incident=incident, config=config, heading=f"舆情报告（第{level_no}级）",
            lead=("同时报告：" + "、".join(lv.notify) + "。") if dual else "",
            facts=[("请确认期限", messages.local(config, esc.ack_due_at))],
            paragraphs=[note or "", incident.scope or "",
                        (f"请在期限前确认收到：sentinel incident ack {incident.id} --by 姓名。"
                         "期限内无人确认的，系统将自动报告下一级。")],
            level=level_no, groups=list(lv.notify),
        )
    record(session, incident, "escalation_sent", actor=actor, now=now, note=note,
           level=level_no, groups=list(lv.notify), ack_due_at=esc.ack_due_at.isoformat())
    return esc


def start(session: Session, incident: Incident, *, config, outbox, now: datetime) -> Escalation | None:
    """On opening: the first level of the covering rule, if any and not yet sent."""
    levels = levels_for(config, incident)
    if not levels or sent_levels(session, incident):
        return None
    return _send(session, incident, 1, levels[0], config=config, outbox=outbox, now=now, actor="system",
                 note="按上报规则自动报告")


def escalate(session: Session, incident: Incident, *, config, outbox, now: datetime, actor: str,
             note: str | None = None, groups: list[str] | None = None) -> Escalation:
    """Tell the next level now (by hand). Without a rule level left, the default
    escalation (leaders and the superior department at once) or ``groups``."""
    done = sent_levels(session, incident)
    level_no = (done[-1].level if done else 0) + 1
    if groups:
        lv = Level(list(groups), settings_of(config).default_escalation.ack_within)
    else:
        levels = levels_for(config, incident)
        if level_no <= len(levels):
            lv = levels[level_no - 1]
        else:
            d = settings_of(config).default_escalation
            lv = Level(list(d.notify), d.ack_within)
    return _send(session, incident, level_no, lv, config=config, outbox=outbox, now=now, actor=actor, note=note)


def acknowledge(session: Session, incident_id: int, by: str, now: datetime, note: str | None = None) -> dict:
    """Acknowledge the incident's escalations: the timers stop. Safe to call twice."""
    if not by or not by.strip():
        from alerting.incidents.workflow import WorkflowError

        raise WorkflowError("确认收到需要写明确认人（--by 姓名）")
    incident = get_incident(session, incident_id)
    open_levels = [e for e in sent_levels(session, incident) if e.acked_at is None]
    for esc in open_levels:
        esc.acked_at, esc.acked_by = now, by
    first = incident.acknowledged_at is None
    if first:
        incident.acknowledged_at, incident.acknowledged_by = now, by
    if open_levels or first:
        record(session, incident, "acknowledged", actor=by, now=now, note=note,
               levels=[e.level for e in open_levels])
    return {"incident": incident.id, "acknowledged_by": by, "acknowledged_at": now,
            "levels": [e.level for e in open_levels], "changed": bool(open_levels or first)}


def due(session: Session, *, config, outbox, now: datetime) -> dict:
    """Escalations nobody acknowledged in time: tell the next level, or remind the last one at the repeat interval."""
    out = {"escalated": 0, "reminded": 0}
    latest = (
        select(Escalation.incident_id, func.max(Escalation.level).label("lv"))
        .group_by(Escalation.incident_id)
        .subquery()
    )
    rows = session.scalars(
        select(Escalation)
        .join(latest, (latest.c.incident_id == Escalation.incident_id) & (latest.c.lv == Escalation.level))
        .where(Escalation.acked_at.is_(None), Escalation.ack_due_at <= now)
    ).all()
    for esc in rows:
        incident = session.get(Incident, esc.incident_id)
        if incident.status == "closed":
            continue
        levels = levels_for(config, incident)
        if esc.level < len(levels):
            _send(session, incident, esc.level + 1, levels[esc.level], config=config, outbox=outbox, now=now,
                  actor="system", note=f"第{esc.level}级超时未确认，自动报告下一级")
            out["escalated"] += 1
        else:
            # After the last level: remind that level at the outbox's repeat interval
            # (notify.repeat_interval) until somebody acknowledges.
            msg = messages.send(
                session, outbox, key=f"escalation-reminder:{incident.id}:{esc.level}", kind="reminder",
                to=list(esc.groups), subject=f"{messages.tag(incident)}提醒：舆情报告尚未确认：{incident.title}",
                incident=incident, config=config, heading="舆情报告尚未确认",
                lead=f"第{esc.level}级报告已超过确认期限 {messages.local(config, esc.ack_due_at)}，仍无人确认。",
                paragraphs=[f"请确认收到：sentinel incident ack {incident.id} --by 姓名"], level=esc.level,
                repeat=True,
            )
            if msg is not None:
                record(session, incident, "escalation_reminder", now=now, note=f"第{esc.level}级超时未确认，已提醒",
                       level=esc.level)
                out["reminded"] += 1
    return out
