"""Timely reporting (及时报告): level by level (逐级报告) and dual reporting (双重报告).

A rule in sentinel.yaml's ``escalation:`` covers an incident by severity and category
and lists levels; each level names the groups told at the same moment (leaders and the
superior department together is dual reporting) and ``ack_within``. When nobody
acknowledges a level in time, the next level is told; after the last level, a reminder
goes to the last level's groups at the notification repeat interval until acknowledged.
When the severity rises while a chain runs, the chain moves onto the rule covering the
new severity at once (``follow_rule``), whoever raised it: the pipeline, the minute
tick, a person. ``acknowledge`` is the one function every way of acknowledging calls
(CLI today, a web page or a signed mail link later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.compose import escalation as words
from alerting.compose import reminder
from alerting.compose.story import Report
from alerting.incidents.assessment import spread_of, top_posts
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import get_incident, record
from core.times import office_time
from core.vocabulary import Category, Severity, severity_rank
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
        session.scalars(
            select(Escalation)
            .where(Escalation.incident_id == incident.id)
            .order_by(Escalation.level)
        )
    )


def _position(levels: list[Level], sent: list[Escalation]) -> int:
    """How far the chain has come on ``levels``: the number of leading levels whose
    groups have all been told (by whatever rule was in force when they were). The
    same answer for a chain that stayed on one rule and one that moved onto another."""
    told = {g for e in sent for g in (e.groups or [])}
    pos = 0
    while pos < len(levels) and set(levels[pos].notify) <= told:
        pos += 1
    return pos


def _send(
    session,
    incident,
    level_no,
    lv: Level,
    *,
    config,
    outbox,
    now,
    actor,
    note,
    next_groups=(),
    covered=(),
) -> Escalation:
    """Tell ``lv``'s groups now (the same moment for all: dual reporting). Groups in
    ``covered`` read this report in the incident's first alert (one mail, not two)."""
    esc = Escalation(
        incident_id=incident.id,
        level=level_no,
        groups=list(lv.notify),
        sent_at=now,
        ack_due_at=now + timedelta(seconds=lv.ack_within),
    )
    session.add(esc)
    session.flush()
    report = Report(level_no, tuple(lv.notify), esc.ack_due_at, tuple(next_groups), note)
    posts, spread = None, None
    for group in lv.notify:
        if group in covered:
            continue
        if posts is None:  # measured once for every group of the level
            posts, spread = top_posts(session, incident), spread_of(session, incident, now)
        outbox.queue(
            session,
            words.level_report(
                incident, report=report, group=group, config=config, posts=posts, spread=spread
            ),
        )
    merged = [g for g in lv.notify if g in covered]
    record(
        session,
        incident,
        "escalation_sent",
        actor=actor,
        now=now,
        note=f"{note}（与预警邮件合并发送）" if merged and note else note,
        level=level_no,
        groups=list(lv.notify),
        ack_due_at=esc.ack_due_at.isoformat(),
        merged=merged,
    )
    return esc


def _next(levels: list[Level], pos: int) -> list[str]:
    return list(levels[pos + 1].notify) if pos + 1 < len(levels) else []


def start(
    session: Session, incident: Incident, *, config, outbox, now: datetime, covered=()
) -> Escalation | None:
    """Make the escalation follow the rule that covers the incident now. On opening (or
    when a rise in severity brings a rule that did not cover it before): the rule's
    first level at once, except for the groups in ``covered`` (the first alert is their
    report). While a chain runs and the severity has risen onto another rule: the chain
    moves onto that rule at once (``follow_rule``)."""
    levels = levels_for(config, incident)
    if not levels:
        return None
    sent = sent_levels(session, incident)
    if sent:
        return follow_rule(session, incident, config=config, outbox=outbox, now=now, sent=sent)
    return _send(
        session,
        incident,
        1,
        levels[0],
        config=config,
        outbox=outbox,
        now=now,
        actor="system",
        note="按上报规则自动报告",
        next_groups=_next(levels, 0),
        covered=covered,
    )


def severity_rose(
    session: Session, incident: Incident, before: str | None, *, config, outbox, now: datetime
) -> Escalation | None:
    """The one rule for a change of severity, whoever made it (a person's 定级 or 研判
    through ``actions.set_severity``, the minute tick's re-measure): when it rose, the
    escalation follows the rule that covers the incident now (``start``) at once — a
    running chain moves onto the new rule's level, an incident no rule covered before
    gets the new rule's first level. (The pipeline's intake calls ``start`` for every new
    post, which does the same.) Nothing happens when it did not rise or automatic
    escalation is off."""
    if severity_rank(incident.severity) <= severity_rank(before):
        return None
    if not settings_of(config).escalate_on_open:
        return None
    return start(session, incident, config=config, outbox=outbox, now=now)


def follow_rule(
    session: Session,
    incident: Incident,
    *,
    config,
    outbox,
    now: datetime,
    sent: list[Escalation] | None = None,
) -> Escalation | None:
    """A running chain (its last level not acknowledged) moves onto the rule covering
    the incident now: the level told last gets the new rule's time to acknowledge
    (counted from when it was told), and a level the new rule asks for that is due by
    then is told at once. A Ⅳ incident told to the office that grows into a Ⅱ does not
    wait out the Ⅳ rule's hours before the leaders hear of it. Returns the level told."""
    sent = sent if sent is not None else sent_levels(session, incident)
    if not sent or sent[-1].acked_at is not None or incident.acknowledged_at is not None:
        return None
    levels = levels_for(config, incident)
    if not levels:
        return None
    latest = sent[-1]
    pos = _position(levels, sent)
    if pos == 0:  # the new rule's first level names groups nobody has told yet
        return _send(
            session,
            incident,
            latest.level + 1,
            levels[0],
            config=config,
            outbox=outbox,
            now=now,
            actor="system",
            note="危害程度上升，按新规则报告",
            next_groups=_next(levels, 0),
        )
    due = latest.sent_at + timedelta(seconds=levels[pos - 1].ack_within)
    if due < latest.ack_due_at:
        before = latest.ack_due_at
        latest.ack_due_at = due
        record(
            session,
            incident,
            "rule_changed",
            now=now,
            note=(
                f"危害程度升至{Severity.label_of(incident.severity)}，改按新规则："
                f"第{latest.level}级确认期限由 {office_time(before, config.tz)} 提前至 {office_time(due, config.tz)}"
            ),
            level=latest.level,
            ack_due_before=before.isoformat(),
            ack_due_at=due.isoformat(),
        )
    if latest.ack_due_at <= now and pos < len(levels):
        return _send(
            session,
            incident,
            latest.level + 1,
            levels[pos],
            config=config,
            outbox=outbox,
            now=now,
            actor="system",
            note=f"第{latest.level}级超过新规则的确认期限未确认，自动报告下一级",
            next_groups=_next(levels, pos),
        )
    return None


def escalate(
    session: Session,
    incident: Incident,
    *,
    config,
    outbox,
    now: datetime,
    actor: str,
    note: str | None = None,
    groups: list[str] | None = None,
) -> Escalation:
    """Tell the next level now (by hand). Without a rule level left, the default
    escalation (leaders and the superior department at once) or ``groups``."""
    done = sent_levels(session, incident)
    level_no = (done[-1].level if done else 0) + 1
    levels = levels_for(config, incident)
    nxt: list[str] = []
    if groups:
        lv = Level(list(groups), settings_of(config).default_escalation.ack_within)
    else:
        pos = _position(levels, done)
        if pos < len(levels):
            lv, nxt = levels[pos], _next(levels, pos)
        else:
            d = settings_of(config).default_escalation
            lv = Level(list(d.notify), d.ack_within)
    return _send(
        session,
        incident,
        level_no,
        lv,
        config=config,
        outbox=outbox,
        now=now,
        actor=actor,
        note=note,
        next_groups=nxt,
    )


def acknowledge(
    session: Session,
    incident_id: int,
    by: str,
    now: datetime,
    note: str | None = None,
    *,
    config=None,
) -> dict:
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
        record(
            session,
            incident,
            "acknowledged",
            actor=by,
            now=now,
            note=note,
            levels=[e.level for e in open_levels],
        )
    return {
        "incident": incident.id,
        "acknowledged_by": by,
        "acknowledged_at": now,
        "levels": [e.level for e in open_levels],
        "changed": bool(open_levels or first),
    }


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
        .join(
            latest,
            (latest.c.incident_id == Escalation.incident_id) & (latest.c.lv == Escalation.level),
        )
        .where(Escalation.acked_at.is_(None), Escalation.ack_due_at <= now)
    ).all()
    for esc in rows:
        incident = session.get(Incident, esc.incident_id)
        if incident.status == "closed":
            continue
        levels = levels_for(config, incident)
        pos = _position(levels, sent_levels(session, incident))
        if pos < len(levels):
            _send(
                session,
                incident,
                esc.level + 1,
                levels[pos],
                config=config,
                outbox=outbox,
                now=now,
                actor="system",
                note=f"第{esc.level}级超时未确认，自动报告下一级",
                next_groups=_next(levels, pos),
            )
            out["escalated"] += 1
        else:
            # After the last level: remind that level at the outbox's repeat interval
            # (notify.repeat_interval) until somebody acknowledges.
            msg = outbox.queue(
                session,
                reminder.unacknowledged(
                    incident,
                    level=esc.level,
                    groups=esc.groups,
                    ack_due_at=esc.ack_due_at,
                    config=config,
                ),
            )
            if msg is not None:
                record(
                    session,
                    incident,
                    "escalation_reminder",
                    now=now,
                    note=f"第{esc.level}级超时未确认，已提醒",
                    level=esc.level,
                )
                out["reminded"] += 1
    return out
