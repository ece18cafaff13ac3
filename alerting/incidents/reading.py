"""What the console reads that the CLI prints another way: the queue a page at a time
(overdue first, with counts), the posts of an incident with their matched terms as
spans, a stored snapshot and a handed-in file. Each reader checks who is reading
(``roles``), so a unit's information manager cannot reach another unit's records by
guessing a number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from alerting.incidents import roles
from alerting.incidents.evidence import snapshot_bytes
from alerting.incidents.views import overdue_clause, summaries
from alerting.incidents.workflow import WorkflowError, get_incident
from storage.models import (
    EvidenceFile,
    EvidenceItem,
    Incident,
    IncidentPost,
    IncidentUnit,
    Match,
    Post,
    Snapshot,
    User,
)


@dataclass
class QueueFilter:
    """The queue's filters; every one optional."""

    status: str | None = None
    category: str | None = None
    severity: str | None = None
    assignee: str | None = None
    unit: str | None = None
    include_closed: bool = False


def _filtered(session: Session, q, f: QueueFilter, viewer: User):
    q = roles.visible(q, viewer)
    if f.status:
        q = q.where(Incident.status == f.status)
    elif not f.include_closed:
        q = q.where(Incident.status != "closed")
    if f.category:
        q = q.where(Incident.category == f.category)
    if f.severity:
        q = q.where(Incident.severity == f.severity)
    if f.assignee:
        q = q.where(
            Incident.assignee_id.in_(select(User.id).where(User.name == f.assignee.strip()))
        )
    if f.unit:
        q = q.where(
            Incident.id.in_(
                select(IncidentUnit.incident_id).where(IncidentUnit.unit == f.unit.strip())
            )
        )
    return q


def queue(
    session: Session,
    *,
    viewer: User | str,
    now: datetime,
    filters: QueueFilter | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict:
    """One page of the incident queue the viewer may see: overdue tickets first, then the
    newest; ``total`` counts every match of the filters, ``by_status`` the open tickets
    of each status (for the counts above the queue)."""
    user = roles.actor(session, viewer)
    f = filters or QueueFilter()
    late = overdue_clause(now)
    q = _filtered(session, select(Incident), f, user).order_by(
        case((late, 0), else_=1), Incident.id.desc()
    )
    rows = list(session.scalars(q.limit(limit).offset(offset)))
    total = session.scalar(_filtered(session, select(func.count(Incident.id)), f, user))
    by_status = dict(
        session.execute(
            roles.visible(
                select(Incident.status, func.count(Incident.id)).group_by(Incident.status), user
            )
        ).all()
    )
    overdue = session.scalar(
        roles.visible(
            select(func.count(Incident.id)).where(late, Incident.status != "closed"), user
        )
    )
    return {
        "incidents": summaries(session, rows, now),
        "total": total or 0,
        "by_status": by_status,
        "overdue": overdue or 0,
    }


def spans(text: str | None, hits: list[dict] | None, field: str = "text") -> list[tuple[str, bool]]:
    """``text`` cut into pieces, each marked True where a matched term covers it."""
    text = text or ""
    marks = sorted(
        (int(h["start"]), int(h["end"]))
        for h in hits or []
        if h.get("field", "text") == field
        and isinstance(h.get("start"), int)
        and isinstance(h.get("end"), int)
        and 0 <= h["start"] < h["end"] <= len(text)
    )
    out: list[tuple[str, bool]] = []
    at = 0
    for s, e in marks:
        if e <= at:
            continue
        s = max(s, at)
        if s > at:
            out.append((text[at:s], False))
        out.append((text[s:e], True))
        at = e
    if at < len(text):
        out.append((text[at:], False))
    return out


def post_texts(session: Session, incident: Incident) -> dict[int, dict]:
    """Each post's title and text with the matched terms as spans (``spans``)."""
    rows = session.execute(
        select(Post.id, Post.title, Post.text, Match.hits)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .outerjoin(Match, Match.post_id == Post.id)
        .where(IncidentPost.incident_id == incident.id)
    ).all()
    return {
        pid: {"title": spans(title, hits, "title"), "text": spans(text, hits, "text")}
        for pid, title, text, hits in rows
    }


def snapshot(session: Session, viewer: User | str, incident_id: int, snapshot_id: int) -> dict:
    """A stored snapshot of one of the incident's posts (or its evidence), for a viewer
    who may see the incident: its bytes, as fetched, and what it was."""
    inc = get_incident(session, incident_id)
    roles.require_see(session, viewer, inc)
    ours = session.scalar(
        select(func.count())
        .select_from(Post)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .where(IncidentPost.incident_id == inc.id, Post.snapshot_id == snapshot_id)
    ) or session.scalar(
        select(func.count(EvidenceItem.id)).where(
            EvidenceItem.incident_id == inc.id, EvidenceItem.snapshot_id == snapshot_id
        )
    )
    snap = session.get(Snapshot, snapshot_id) if ours else None
    if snap is None:
        raise WorkflowError(f"事件 #{inc.id} 没有编号为 {snapshot_id} 的快照")
    body = snapshot_bytes(snap)
    return {
        "id": snap.id,
        "url": snap.url,
        "fetched_at": snap.fetched_at,
        "sha256": snap.sha256,
        "status": snap.status,
        "content_type": (snap.headers or {}).get("content-type", ""),
        "body": body,
        "text": _decoded(body, (snap.headers or {}).get("content-type", "")),
    }


def _decoded(body: bytes, content_type: str) -> str:
    from charset_normalizer import from_bytes

    charset = ""
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";")[0].strip()
    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    best = from_bytes(body[:200_000]).best()
    return str(best) if best is not None else body.decode("utf-8", "replace")


def evidence_file(session: Session, viewer: User | str, incident_id: int, item_id: int) -> dict:
    """A handed-in file of the incident: its name, stored media type and bytes."""
    inc = get_incident(session, incident_id)
    roles.require_see(session, viewer, inc)
    item = session.get(EvidenceItem, item_id)
    if item is None or item.incident_id != inc.id or item.file_id is None:
        raise WorkflowError(f"事件 #{inc.id} 没有编号为 {item_id} 的材料")
    f = session.get(EvidenceFile, item.file_id)
    return {
        "filename": item.filename or f"材料-{item.id}",
        "media_type": f.media_type,
        "sha256": f.sha256,
        "body": f.body,
    }
