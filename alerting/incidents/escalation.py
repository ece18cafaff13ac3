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

from alerting.compose import escalation as words
from alerting.compose import reminder
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
    for group in lv.notify:  # the same moment for every group: dual reporting
        outbox.queue(session, words.level_report(incident, level=level_no, groups=lv.notify, group=group,
                                                 ack_due_at=esc.ack_due_at, note=note, config=config))
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


def acknowledge(session: Session, incident_id: int, by: str, now: datetime, note: str | None = None, *,
                config=None) -> dict:
    """Acknowledge the incident's escalations: the timers stop. Safe to call twice.
    Counts only from the office or a person a report was addressed to (their e-mail
    among the recipients of a level told; ``roles.acknowledger``): anyone else is
    refused before anything is written. Without ``config`` only the office may."""
    from alerting.incidents import roles

    incident = get_incident(session, incident_id)
    levels = sent_levels(session, incident)
    by = roles.acknowledger(session, incident, by, levels, config).name
    open_levels = [e for e in levels if e.acked_at is None]
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
            msg = outbox.queue(session, reminder.unacknowledged(incident, level=esc.level, groups=esc.groups,
                                                                ack_due_at=esc.ack_due_at, config=config))
            if msg is not None:
                record(session, incident, "escalation_reminder", now=now, note=f"第{esc.level}级超时未确认，已提醒",
                       level=esc.level)
                out["reminded"] += 1
    return out
