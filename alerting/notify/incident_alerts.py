"""An incident's alerts: the first at once, the follow-ups gathered into one.

The first alert of a new incident is queued in the transaction that opens it. Posts
that join later are gathered for ``notify.group_window`` under a placeholder in the
outbox; when the window closes (``flush_groups``, run by every drain) they go out as
ONE follow-up. Each post is reported once: a post is marked ``notified`` when a
message lists it. The wording is ``alerting.compose.incident``'s.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerting.compose import incident as words
from alerting.notify.routing import SilenceSet, recipients_for
from core.vocabulary import MessageKind
from storage.models import Incident, IncidentPost, Match, OutboxMessage, Post

if TYPE_CHECKING:
    from alerting.notify.outbox import Outbox

PostPair = tuple[Post, Match | None]


def alert_groups(
    session: Session, outbox: Outbox, incident: Incident, posts: list[PostPair], related=None
) -> list[str]:
    """The groups the first alert of a new incident will reach (none when every post is
    silenced, or the alert was queued already): the groups whose first escalation report
    it can carry."""
    session.flush()
    if outbox.queued(session, words.opened_key(incident.id)):
        return []
    silences = SilenceSet.load(session, outbox.now())
    if not [(p, m) for p, m in posts if not silences.post(p, m)]:
        return []
    return _groups(outbox, incident, posts, related=related)


def opened(
    session: Session,
    outbox: Outbox,
    incident: Incident,
    posts: list[PostPair],
    *,
    report=None,
    spread=None,
    related=None,
) -> OutboxMessage | None:
    """The first alert of a new incident: queued to go out at once (no group wait).
    ``report``: its first escalation level, told in this same mail to the groups the
    alert and the level share. ``related``: the closed incident it continues (the alert
    is then a secondary crisis, also to the leaders and that incident's tracker)."""
    session.flush()
    if outbox.queued(session, words.opened_key(incident.id)):
        return None
    silences = SilenceSet.load(session, outbox.now())
    loud = [(p, m) for p, m in posts if not silences.post(p, m)]
    posts_notified(session, incident, [p.id for p, _ in posts])
    spec = words.opened(
        incident,
        loud or list(posts),
        to=_groups(outbox, incident, posts, related=related),
        config=outbox.config,
        silenced=not loud,
        report=report if loud else None,
        spread=spread,
        related=related,
    )
    return outbox.queue(session, spec)


def updated(
    session: Session, outbox: Outbox, incident: Incident, new_posts: list[PostPair]
) -> OutboxMessage | None:
    """Posts joined an incident that was already announced. They are gathered for
    ``group_window`` and then go out as ONE follow-up mail. Returns the group's
    placeholder (status ``grouping``) while the window is open, the follow-up once it is
    sealed, or None."""
    session.flush()
    now = outbox.now()
    group = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.incident_id == incident.id, OutboxMessage.status == "grouping"
        )
    )
    if group is None:
        pending = _pending_posts(session, incident.id)
        ids = sorted({p.id for p, _ in pending} | {p.id for p, _ in new_posts})
        if not ids:
            return None
        key = words.update_key(incident.id, ids[0])
        if outbox.queued(session, key):
            return None
        group = outbox.hold(
            session,
            key=key,
            kind=MessageKind.INCIDENT_UPDATE.value,
            incident_id=incident.id,
            until=now + timedelta(seconds=outbox.settings.group_window),
        )
    if group.not_before is None or group.not_before <= now:
        return _seal(session, outbox, group, extra=new_posts)
    return group


def posts_notified(session: Session, incident: Incident, post_ids: list[int]) -> None:
    """Posts a message already reported (the first alert, a secondary-crisis alert) are
    not listed again in the incident's next follow-up."""
    if post_ids:
        session.execute(
            update(IncidentPost)
            .where(IncidentPost.incident_id == incident.id, IncidentPost.post_id.in_(post_ids))
            .values(notified=True)
        )


def flush_groups(outbox: Outbox) -> int:
    """Seal every group whose window has passed; returns how many were due."""
    now = outbox.now()
    with outbox.db.session() as s:
        ids = s.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status == "grouping", OutboxMessage.not_before <= now
            )
        ).all()
    for mid in ids:
        with outbox.db.session() as s:
            group = s.get(OutboxMessage, mid)
            if group is not None and group.status == "grouping":
                _seal(s, outbox, group)
    return len(ids)


def _seal(session: Session, outbox: Outbox, group: OutboxMessage, extra=()) -> OutboxMessage | None:
    """Close a group: the follow-up lists every post gathered in its window."""
    incident = session.get(Incident, group.incident_id)
    posts = {p.id: (p, m) for p, m in _pending_posts(session, incident.id)}
    for p, m in extra:
        posts.setdefault(p.id, (p, m))
    ordered = [posts[k] for k in sorted(posts)]
    posts_notified(session, incident, list(posts))
    silences = SilenceSet.load(session, outbox.now())
    loud = [(p, m) for p, m in ordered if not silences.post(p, m)]
    spec = words.update(
        incident,
        loud or ordered,
        key=group.key,
        to=_groups(outbox, incident, ordered),
        config=outbox.config,
        silenced=not loud,
    )
    return outbox.seal(session, group, spec)


def _pending_posts(session: Session, incident_id: int) -> list[PostPair]:
    rows = session.execute(
        select(Post, Match)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .outerjoin(Match, Match.post_id == Post.id)
        .where(IncidentPost.incident_id == incident_id, IncidentPost.notified.is_(False))
        .order_by(Post.id)
    ).all()
    return [(p, m) for p, m in rows]


def _groups(outbox: Outbox, incident: Incident, posts: list[PostPair], related=None) -> list[str]:
    """Who is told about the incident: the routes for its severity, category and units
    (the units its posts name, and its assignee's); for the second wave of a closed
    incident (``related``) also those a secondary crisis goes to."""
    units: set[str] = set()
    for _p, m in posts:
        for e in (m.entities if m is not None else None) or []:
            units.add(
                e if isinstance(e, str) else str(e.get("name", "")) if isinstance(e, dict) else ""
            )
    if incident.assignee is not None and incident.assignee.unit:
        units.add(incident.assignee.unit)
    groups = recipients_for(
        outbox.settings, severity=incident.severity, category=incident.category, units=units
    )
    if related is not None:
        extra = ["office", "leaders"]
        if related.assignee is not None and related.assignee.email:
            extra.append(related.assignee.email)
        groups += [g for g in extra if g not in groups]
    return groups
