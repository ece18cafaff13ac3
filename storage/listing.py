"""Listings of stored records as plain dictionaries: what ``--json`` prints and what the
CLI and the web console show. Queries live here, not in the entry points, so both show
the same thing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Match, OutboxMessage, Post, Source


def post_dict(p: Post, source_name: str, m: Match | None) -> dict:
    """One post with its match (the contract of ``sentinel posts --json``)."""
    return {
        "id": p.id,
        "source": source_name,
        "url": p.url,
        "title": p.title,
        "text": p.text,
        "author": p.author,
        "published_at": p.published_at,
        "fetched_at": p.fetched_at,
        "duplicate_of": p.duplicate_of_id,
        "replies": p.replies,
        "views": p.views,
        "match": None
        if m is None
        else {
            "mentioned": m.mentioned,
            "alert": m.alert,
            "score": m.score,
            "severity": m.severity,
            "category": m.category,
            "hits": m.hits,
            "sentiment": None
            if m.sentiment is None
            else {"label": m.sentiment, "score": m.sentiment_score},
        },
    }


def posts(
    session: Session,
    *,
    source: str | None = None,
    since: datetime | None = None,
    matched: bool = False,
    alerts: bool = False,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Stored posts, newest first. ``matched``: only posts that name the college;
    ``alerts``: only posts the office must act on; ``text``: title or text contains it."""
    q = (
        select(Post, Source.name, Match)
        .join(Source, Source.id == Post.source_id)
        .outerjoin(Match, Match.post_id == Post.id)
        .order_by(Post.fetched_at.desc(), Post.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if source:
        q = q.where(Source.name == source)
    if since:
        q = q.where(Post.fetched_at >= since)
    if matched:
        q = q.where(Match.mentioned.is_(True))
    if alerts:
        q = q.where(Match.alert.is_(True))
    if text:
        like = f"%{text}%"
        q = q.where(Post.title.like(like) | Post.text.like(like))
    return [post_dict(p, name, m) for p, name, m in session.execute(q).all()]


def source_known(session: Session, name: str) -> bool:
    return session.scalar(select(Source.id).where(Source.name == name)) is not None


def counts(session: Session) -> dict:
    """Posts stored, and posts stored but not matched yet (the backlog)."""
    backlog = session.scalar(
        select(func.count(Post.id))
        .outerjoin(Match, Match.post_id == Post.id)
        .where(Match.id.is_(None))
    )
    return {"posts": session.scalar(select(func.count(Post.id))), "backlog": backlog}


def outbox_dict(m: OutboxMessage) -> dict:
    return {
        "id": m.id,
        "kind": m.kind,
        "channel": m.channel,
        "status": m.status,
        "subject": m.subject,
        "recipients": m.recipients,
        "message_id": m.message_id,
        "incident_id": m.incident_id,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at,
        "last_error": m.last_error,
    }


def outbox(session: Session, *, status: str | None = None, limit: int = 50) -> list[dict]:
    """Stored notifications, newest first."""
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        q = q.where(OutboxMessage.status == status)
    return [outbox_dict(m) for m in session.scalars(q)]
