"""Incidents as plain dictionaries: what ``--json`` prints, what reports render and what
the console shows. ``viewer`` (a user or a name) limits what is returned to what that
person may see: a unit's information manager sees only its unit's incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from alerting.incidents import meeting, replies, roles, takedown, units
from alerting.incidents.assessment import incident_posts, measure, site_of
from alerting.incidents.clustering import StoryKey
from alerting.incidents.workflow import TRANSITIONS
from core.vocabulary import Category, EventKind, IncidentStatus, Severity, actor_label
from storage.models import (
    ChecklistItem,
    Escalation,
    EvidenceFile,
    EvidenceItem,
    Incident,
    IncidentEvent,
    IncidentUnit,
    Source,
    User,
)


def overdue_clause(now: datetime):
    return exists().where(
        ChecklistItem.incident_id == Incident.id,
        ChecklistItem.done_at.is_(None),
        ChecklistItem.due_at.is_not(None),
        ChecklistItem.due_at < now,
    )


def query(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    category: str | None = None,
    overdue: bool = False,
    include_closed: bool = True,
    unit: str | None = None,
    viewer: User | str | None = None,
) -> list[Incident]:
    """Incidents, newest first; ``unit`` keeps those the unit follows, ``viewer`` those the
    person may see (every incident for the office and leaders, their unit's for a unit)."""
    q = select(Incident).order_by(Incident.id.desc())
    if viewer is not None:
        q = roles.visible(q, roles.actor(session, viewer))
    if unit:
        q = q.where(
            exists().where(
                IncidentUnit.incident_id == Incident.id, IncidentUnit.unit == unit.strip()
            )
        )
    if status:
        q = q.where(Incident.status == status)
    elif not include_closed:
        q = q.where(Incident.status != "closed")
    if category:
        q = q.where(Incident.category == category)
    if overdue:
        q = q.where(overdue_clause(now), Incident.status != "closed")
    return list(session.scalars(q))


def summary(
    session: Session,
    inc: Incident,
    now: datetime,
    *,
    preloaded: tuple[list[ChecklistItem], User | None, list[str]] | None = None,
) -> dict:
    """One incident as a plain dictionary; ``preloaded`` (its checklist items, assignee and
    units, read for many incidents at once by ``summaries``) saves three queries."""
    if preloaded is None:
        items = list(
            session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == inc.id))
        )
        assignee = session.get(User, inc.assignee_id) if inc.assignee_id else None
        unit_names = roles.units_of(session, inc)
    else:
        items, assignee, unit_names = preloaded
    return {
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "status_label": IncidentStatus.label_of(inc.status),
        "category": inc.category,
        "category_label": Category.label_of(inc.category),
        "severity": inc.severity,
        "severity_label": Severity.label_of(inc.severity),
        "score": inc.score,
        "posts": inc.post_count,
        "sites": inc.site_count,
        "opened_at": inc.opened_at,
        "updated_at": inc.updated_at,
        "last_post_at": inc.last_post_at,
        "closed_at": inc.closed_at,
        "assignee": assignee.name if assignee else None,
        "reporter": inc.reporter,
        "units": unit_names,
        "acknowledged_at": inc.acknowledged_at,
        "acknowledged_by": inc.acknowledged_by,
        "reopened": inc.reopened_count,
        "related_to": inc.related_to_id,
        "checklist_open": sum(1 for i in items if i.done_at is None),
        "overdue": sum(
            1 for i in items if i.done_at is None and i.due_at is not None and i.due_at < now
        ),
        "next_steps": [s.value for s in TRANSITIONS.get(inc.status, ())],
        "next_steps_label": [s.label for s in TRANSITIONS.get(inc.status, ())],
    }


def summaries(session: Session, incidents: list[Incident], now: datetime) -> list[dict]:
    """``summary`` of many incidents in four queries instead of three for each."""
    ids = [i.id for i in incidents]
    items: dict[int, list[ChecklistItem]] = {i: [] for i in ids}
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for it in session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id.in_(ids))):
            items[it.incident_id].append(it)
        for iid, unit in session.execute(
            select(IncidentUnit.incident_id, IncidentUnit.unit)
            .where(IncidentUnit.incident_id.in_(ids))
            .order_by(IncidentUnit.id)
        ):
            names[iid].append(unit)
    wanted = {i.assignee_id for i in incidents if i.assignee_id}
    people = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
        if wanted
        else {}
    )
    return [
        summary(session, i, now, preloaded=(items[i.id], people.get(i.assignee_id), names[i.id]))
        for i in incidents
    ]


def item_dict(item: ChecklistItem, now: datetime, spec=None) -> dict:
    late = item.due_at is not None and ((item.done_at or now) > item.due_at)
    return {
        "key": item.key,
        "title": item.title,
        "means": spec.means if spec else None,
        "auto": spec.auto if spec else None,
        "due_at": item.due_at,
        "done_at": item.done_at,
        "done_by": item.done_by,
        "note": item.note,
        "overdue": item.done_at is None and late,
        "late": late,
        "overdue_alerted_at": item.overdue_alerted_at,
    }


def _spec(config, inc: Incident, key: str):
    if config is None:
        return None
    from alerting.incidents.playbooks import PlaybookError, spec_of_item

    try:
        return spec_of_item(config, inc.category, key)
    except PlaybookError:
        return None


def _evidence(session: Session, e: EvidenceItem) -> dict:
    f = session.get(EvidenceFile, e.file_id) if e.file_id else None
    return {
        "id": e.id,
        "post_id": e.post_id,
        "snapshot_id": e.snapshot_id,
        "sha256": e.sha256,
        "added_at": e.added_at,
        "added_by": e.added_by,
        "note": e.note,
        "file_id": e.file_id,
        "filename": e.filename,
        "media_type": f.media_type if f else None,
        "size": f.size if f else None,
    }


def reports(session: Session, inc: Incident) -> list[dict]:
    """Who reported the incident (报案), from which unit, and what they thought it was."""
    return [
        {
            "at": e.at,
            "by": e.actor,
            "unit": e.data.get("reporter_unit"),
            "note": e.note,
            "category": e.data.get("reporter_category"),
            "category_label": Category.label_of(e.data.get("reporter_category"), empty="") or None,
            "url": e.data.get("url"),
            "page_error": e.data.get("page_error"),
        }
        for e in session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == inc.id, IncidentEvent.kind == "reported")
            .order_by(IncidentEvent.id)
        )
    ]


def detail(
    session: Session, inc: Incident, now: datetime, *, config=None, viewer: User | str | None = None
) -> dict:
    """Everything about one incident; ``config`` adds what each checklist item means."""
    if viewer is not None:
        roles.require_see(session, viewer, inc)
    d = summary(session, inc, now)
    m = measure(session, inc, now)
    key = StoryKey.of_incident(session, inc)
    d.update(
        {
            "assessment": {
                "cause": inc.cause,
                "state": inc.state_desc,
                "development": inc.development,
                "scope": inc.scope,
                "measures": inc.measures,
            },
            "measured": m.to_dict(),
            "entities": sorted(key.entities),
            "terms": sorted(key.terms),
            "topics": sorted(key.topics),
            "checklist": [
                item_dict(i, now, _spec(config, inc, i.key))
                for i in session.scalars(
                    select(ChecklistItem)
                    .where(ChecklistItem.incident_id == inc.id)
                    .order_by(ChecklistItem.id)
                )
            ],
            "escalations": [
                {
                    "level": e.level,
                    "groups": e.groups,
                    "sent_at": e.sent_at,
                    "ack_due_at": e.ack_due_at,
                    "acked_at": e.acked_at,
                    "acked_by": e.acked_by,
                }
                for e in session.scalars(
                    select(Escalation)
                    .where(Escalation.incident_id == inc.id)
                    .order_by(Escalation.level)
                )
            ],
            "evidence": [
                _evidence(session, e)
                for e in session.scalars(
                    select(EvidenceItem)
                    .where(EvidenceItem.incident_id == inc.id)
                    .order_by(EvidenceItem.id)
                )
            ],
            "reports": reports(session, inc),
            "unit_records": units.listing(session, inc),
            "replies": replies.listing(session, inc),
            "meetings": meeting.listing(session, inc),
            "takedown": takedown.listing(session, inc),
            "posts": [],
            "events": [
                {
                    "id": e.id,
                    "at": e.at,
                    "actor": e.actor,
                    "actor_label": actor_label(e.actor),
                    "kind": e.kind,
                    "label": EventKind.label_of(e.kind),
                    "note": e.note,
                    "data": e.data,
                }
                for e in session.scalars(
                    select(IncidentEvent)
                    .where(IncidentEvent.incident_id == inc.id)
                    .order_by(IncidentEvent.id)
                )
            ],
        }
    )
    sources = {s.id: s.name for s in session.scalars(select(Source))}
    for p, mt in incident_posts(session, inc.id):
        d["posts"].append(
            {
                "id": p.id,
                "url": p.url if p.url.startswith(("http://", "https://")) else "",
                "title": p.title,
                "site": site_of(p),
                "source": sources.get(p.source_id),
                "author": p.author,
                "published_at": p.published_at,
                "fetched_at": p.fetched_at,
                "duplicate_of_id": p.duplicate_of_id,
                "replies": p.replies,
                "views": p.views,
                "likes": p.likes,
                "score": mt.score if mt else None,
                "severity": mt.severity if mt else None,
                "category": mt.category if mt else None,
                "sentiment": mt.sentiment if mt else None,
                "snapshot_id": p.snapshot_id,
            }
        )
    return d
