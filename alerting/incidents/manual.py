"""Manual reports (报案): anyone who sees a hot, sensitive issue reports it; the report
creates or joins an incident, with the reporter recorded."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents.intake import intake
from alerting.incidents.workflow import WorkflowError
from crawler.urls import canonical
from storage.models import Incident, Match, Post, Source

MANUAL_SOURCE = "manual-report"
log = logging.getLogger("sentinel.incidents")


def _source(session: Session) -> Source:
    src = session.scalar(select(Source).where(Source.name == MANUAL_SOURCE))
    if src is None:
        src = Source(name=MANUAL_SOURCE, type="manual", state={})
        session.add(src)
        session.flush()
    return src


def _match(config, post: Post, by: str, now: datetime) -> Match:
    """The matcher's verdict when it is available; a report is an alert either way."""
    m = Match(post_id=post.id, mentioned=True, alert=True, score=0, matched_at=now,
              reasons=[f"人工报案：{by}"], entities=[], hits=[])
    try:
        from alerting.matcher import MatcherHolder

        matcher = MatcherHolder(config.watchlist_files, cache_dir=config.cache_dir).get()
        r = matcher.match(post.text or "", title=post.title or "")
        m.watchlist_version = matcher.version
        m.mentioned, m.score, m.severity, m.category = r.mentioned, r.score, r.severity, r.category
        m.entities, m.hits = list(r.entities), list(r.to_dict()["hits"])
        m.reasons = list(r.reasons) + m.reasons
    except Exception as e:  # noqa: BLE001 - no matcher or a broken watchlist: the report still stands
        log.warning("manual report %s not matched: %s", post.url, e)
    return m


def report(session: Session, *, url: str, title: str | None, note: str | None, by: str, config, outbox,
           now: datetime, category: str | None = None, severity: str | None = None) -> tuple[Incident, bool]:
    """Create or join an incident for a reported URL; returns (incident, opened)."""
    if not by or not by.strip():
        raise WorkflowError("报案需写明报案人：--by 姓名")
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WorkflowError(f"'{url}' 不是有效的网址（应以 http:// 或 https:// 开头）")
    curl = canonical(url)
    post = session.scalar(select(Post).where(Post.url == curl))
    if post is None:
        text = (note or "").strip()
        post = Post(source_id=_source(session).id, url=curl, original_url=url, title=(title or "").strip() or curl,
                    text=text, author=None, fetched_at=now, published_at=None,
                    content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(),
                    extra={"manual": True, "reported_by": by})
        session.add(post)
        session.flush()
    match = session.scalar(select(Match).where(Match.post_id == post.id))
    if match is None:
        match = _match(config, post, by, now)
        session.add(match)
        session.flush()
    if category and not match.category:
        match.category = category
    if severity and not match.severity:
        match.severity = severity
    return intake(session, post, match, config=config, outbox=outbox, now=now, reporter=by.strip(),
                  note=f"报案人 {by.strip()}：{note or title or url}")
