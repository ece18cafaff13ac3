"""删帖复查: once the source of an incident was dealt with (信息源已处置 — a checklist item
marked ``takedown: true`` in the playbooks is done), the offending posts are fetched
again every ``incidents.takedown.interval`` for ``incidents.takedown.stop_after``, and
each result is recorded: deleted (the site answers 404 or 410, or the page no longer
shows the post and says it was removed), still online, or not determinable (the site
could not be reached). The ticket and the review show the latest result per post; the
log gets an entry when a post's state changes.

``recheck`` is the periodic function the daemon calls. It takes the database (or a
session factory, as ``tick`` does), not a session: the pages are fetched outside any
transaction, so a slow site never holds SQLite's write lock.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents.playbooks import PlaybookError, spec_of_item
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import record
from core.vocabulary import FetchErrorKind, TakedownState
from storage.models import ChecklistItem, Incident, IncidentPost, Post, TakedownCheck

log = logging.getLogger("sentinel.incidents")
T = TakedownState


@dataclass
class Due:
    incident_id: int
    post_id: int
    url: str
    title: str
    last: str | None


@contextmanager
def _unit(db_or_factory):
    if hasattr(db_or_factory, "session"):
        with db_or_factory.session() as s:
            yield s
    else:
        with db_or_factory() as s, s.begin():
            yield s


def watched_since(session: Session, incident: Incident, config) -> datetime | None:
    """When the incident's source item was done, if it was (the first such item)."""
    done = session.scalars(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_not(None)
        )
    )
    times = []
    for item in done:
        try:
            spec = spec_of_item(config, incident.category, item.key)
        except PlaybookError:
            spec = None
        if spec is not None and spec.takedown:
            times.append(item.done_at)
    return min(times) if times else None


def latest_checks(session: Session, incident_id: int) -> dict[int, TakedownCheck]:
    out: dict[int, TakedownCheck] = {}
    for c in session.scalars(
        select(TakedownCheck)
        .where(TakedownCheck.incident_id == incident_id)
        .order_by(TakedownCheck.id)
    ):
        out[c.post_id] = c
    return out


def due(session: Session, config, now: datetime) -> list[Due]:
    """The posts to fetch now."""
    s = settings_of(config).takedown
    cutoff = now - timedelta(seconds=s.stop_after)
    ids = set(
        session.scalars(
            select(ChecklistItem.incident_id).where(
                ChecklistItem.done_at.is_not(None), ChecklistItem.done_at >= cutoff
            )
        )
    )
    out: list[Due] = []
    for inc in session.scalars(select(Incident).where(Incident.id.in_(ids)).order_by(Incident.id)):
        since = watched_since(session, inc, config)
        if since is None or since < cutoff:
            continue
        last = latest_checks(session, inc.id)
        posts = session.scalars(
            select(Post)
            .join(IncidentPost, IncidentPost.post_id == Post.id)
            .where(IncidentPost.incident_id == inc.id)
            .order_by(Post.id)
        )
        for p in posts:
            url = p.original_url or p.url
            if not url.startswith(("http://", "https://")):
                continue  # reported without a URL: nothing to fetch
            c = last.get(p.id)
            if c is not None and (
                c.state == T.DELETED.value or now - c.checked_at < timedelta(seconds=s.interval)
            ):
                continue
            out.append(Due(inc.id, p.id, url, p.title or "", c.state if c else None))
    return out


def probe(url: str, title: str, config, client=None) -> tuple[str, int | None, str]:
    """(state, HTTP status, what was seen) for one post's page."""
    from crawler.encoding import decode
    from crawler.http import FetchError, FetchOptions, shared_client

    opts = FetchOptions(user_agent=config.full_user_agent, timeout=30, max_bytes=2 * 1024 * 1024)
    try:
        fr = (client or shared_client()).fetch(url, opts)
    except FetchError as e:
        return T.UNREACHABLE.value, None, f"{FetchErrorKind.label_of(e.kind)}：{e.message}"[:500]
    if fr.status in (404, 410):
        return T.DELETED.value, fr.status, f"网站返回 HTTP {fr.status}（页面已不存在）"
    if not 200 <= fr.status < 300:
        return T.UNREACHABLE.value, fr.status, f"网站返回 HTTP {fr.status}"
    text = decode(fr.body, fr.headers.get("content-type")).text or ""
    shown = len(title.strip()) >= 4 and title.strip() in text
    said = max(
        (p for p in settings_of(config).takedown.removed_phrases if p in text),
        key=len,
        default=None,
    )
    if said and not shown:
        return T.DELETED.value, fr.status, f"页面提示“{said}”，原帖内容已不在页面上"
    return T.STILL_ONLINE.value, fr.status, "原帖仍可访问"


def recheck(db_or_factory, *, config, now: datetime, client=None) -> dict:
    """Fetch every post that is due and record what was found; returns counts by state."""
    with _unit(db_or_factory) as s:
        todo = due(s, config, now)
    out = {"checked": 0, **{state.value: 0 for state in T}}
    for d in todo:
        state, status, detail = probe(d.url, d.title, config, client)
        try:
            with _unit(db_or_factory) as s:
                s.add(
                    TakedownCheck(
                        incident_id=d.incident_id,
                        post_id=d.post_id,
                        checked_at=now,
                        url=d.url,
                        status=status,
                        state=state,
                        detail=detail,
                    )
                )
                s.flush()
                if state != d.last:
                    record(
                        s,
                        s.get(Incident, d.incident_id),
                        "takedown",
                        now=now,
                        note=f"{T.label_of(state)}：{d.url}（{detail}）",
                        post_id=d.post_id,
                        state=state,
                        status=status,
                    )
        except Exception:
            log.exception("takedown check of %s failed", d.url)
            continue
        out["checked"] += 1
        out[state] += 1
    return out


def listing(session: Session, incident: Incident) -> list[dict]:
    """The latest result per post, with how many times it was checked."""
    counts: dict[int, int] = {}
    first: dict[int, datetime] = {}
    for c in session.scalars(select(TakedownCheck).where(TakedownCheck.incident_id == incident.id)):
        counts[c.post_id] = counts.get(c.post_id, 0) + 1
        first.setdefault(c.post_id, c.checked_at)
    return [
        {
            "post_id": pid,
            "url": c.url,
            "state": c.state,
            "state_label": T.label_of(c.state),
            "status": c.status,
            "detail": c.detail,
            "checked_at": c.checked_at,
            "checks": counts[pid],
            "first_checked_at": first[pid],
        }
        for pid, c in sorted(latest_checks(session, incident.id).items())
    ]
