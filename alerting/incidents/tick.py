"""The minute tick: deadlines, escalation timers, growth and tracking.

Each part runs in its own transaction, so one failing part does not hold back the
others; every alert it raises is keyed, so a tick that runs twice raises nothing twice.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose import reminder
from alerting.incidents import assessment, escalation, tracking
from alerting.incidents.playbooks import PlaybookError, item_spec
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import record
from core.times import office_time
from core.vocabulary import OPEN_STATUSES, Severity, severity_rank
from storage.models import ChecklistItem, Incident, User

log = logging.getLogger("sentinel.incidents")


@contextmanager
def _unit(db_or_factory):
    if hasattr(db_or_factory, "session"):
        with db_or_factory.session() as s:
            yield s
    else:
        with db_or_factory() as s, s.begin():
            yield s


def overdue(session: Session, *, config, outbox, now: datetime) -> int:
    """Checklist items past their deadline: one alert each (or every ``overdue_repeat``)."""
    repeat = settings_of(config).overdue_repeat
    n = 0
    rows = session.execute(
        select(ChecklistItem, Incident)
        .join(Incident, Incident.id == ChecklistItem.incident_id)
        .where(
            ChecklistItem.done_at.is_(None),
            ChecklistItem.due_at.is_not(None),
            ChecklistItem.due_at <= now,
        )
        .where(Incident.status != "closed")
    ).all()
    for item, incident in rows:
        if item.overdue_alerted_at is not None and (
            repeat is None or now - item.overdue_alerted_at < timedelta(seconds=repeat)
        ):
            continue
        try:
            spec = item_spec(config, incident.category, item.key)
        except PlaybookError:  # a broken playbooks file must not stop deadline alerts
            spec = None
        if spec is not None and spec.optional:
            continue
        stamp = item.overdue_alerted_at
        item.overdue_alerted_at = now
        to = ["office"]
        if incident.assignee_id:
            u = session.get(User, incident.assignee_id)
            if u and u.email:
                to.append(u.email)
        outbox.queue(
            session,
            reminder.overdue(
                incident, item, to=to, config=config, again_at=None if stamp is None else now
            ),
        )
        local_due = office_time(item.due_at, config.tz)
        record(
            session,
            incident,
            "overdue",
            now=now,
            note=f"{item.title} 已超过期限 {local_due}",
            item=item.key,
        )
        n += 1
    return n


def growth(session: Session, *, config, outbox, now: datetime) -> int:
    """Open incidents with recent posts: re-measure; severity rising with spread may start
    an escalation rule that did not cover the incident before."""
    n = 0
    since = now - timedelta(hours=2)
    for incident in session.scalars(
        select(Incident).where(
            Incident.status.in_([s.value for s in OPEN_STATUSES]), Incident.last_post_at >= since
        )
    ).all():
        before = incident.severity
        assessment.refresh(session, incident, now)
        if severity_rank(incident.severity) > severity_rank(before):
            record(
                session,
                incident,
                "growth",
                now=now,
                note=f"传播扩大，危害程度升至{Severity.label_of(incident.severity)}",
                severity_before=before,
                severity=incident.severity,
            )
            escalation.severity_rose(
                session, incident, before, config=config, outbox=outbox, now=now
            )
            n += 1
    return n


def tick(db_or_factory, *, config, outbox, now: datetime) -> dict:
    """Run every timed check once; returns what each did."""
    out: dict = {}
    parts = (
        ("overdue", lambda s: overdue(s, config=config, outbox=outbox, now=now)),
        ("escalation", lambda s: escalation.due(s, config=config, outbox=outbox, now=now)),
        ("growth", lambda s: growth(s, config=config, outbox=outbox, now=now)),
        ("tracking", lambda s: tracking.check(s, config=config, outbox=outbox, now=now)),
    )
    for name, part in parts:
        try:
            with _unit(db_or_factory) as s:
                out[name] = part(s)
        except Exception as e:
            log.exception("incident tick part %s failed", name)
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    return out
