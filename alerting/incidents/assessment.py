"""Rapid assessment (快速研判): what the system can measure about an incident, and what
it proposes (category, severity, measures) for people to confirm or change.

Measured: posts, distinct sites, first seen, the first source (查找信息源: the earliest
post of the story), growth per hour, engagement. Severity only rises by itself, with
spread; once a person has set the category or severity, the system stops proposing it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose.story import Spread
from alerting.score import apply_spread
from core.times import office_time, zone_name
from core.vocabulary import Severity, severity_rank
from storage.models import ChecklistItem, Incident, IncidentEvent, IncidentPost, Match, Post, Source

AUTO_PREFIX = "系统测算："


@dataclass
class Measures:
    posts: int = 0
    sites: int = 0
    site_names: list[str] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    first_source: dict | None = None
    posts_last_hour: int = 0
    posts_per_hour: float = 0.0
    replies: int = 0
    views: int = 0
    likes: int = 0

    @property
    def engagement(self) -> int:
        return self.replies + self.views + self.likes

    def to_dict(self) -> dict:
        d = asdict(self)
        d["engagement"] = self.engagement
        return d

    def summary(self) -> str:
        first = self.first_source or {}
        when = first.get("time")
        when_s = office_time(when, style="short") if isinstance(when, datetime) else "未知"
        return (
            f"{AUTO_PREFIX}帖文 {self.posts} 条，涉及网站 {self.sites} 个"
            f"（{'、'.join(self.site_names[:6])}{'等' if self.sites > 6 else ''}）；"
            f"首发 {when_s}（{zone_name()}）于 {first.get('site', '未知')}；"
            f"近 1 小时 {self.posts_last_hour} 条，平均每小时 {self.posts_per_hour:.1f} 条；"
            f"回复 {self.replies}、浏览 {self.views}、点赞 {self.likes}。"
        )


def site_of(post: Post) -> str:
    if (post.url or "").startswith(
        "report:"
    ):  # reported without a URL (a chat group, a screenshot)
        return "人工报案（无网址）"
    return (urlsplit(post.url or "").hostname or "").removeprefix("www.") or "未知"


def incident_posts(session: Session, incident_id: int) -> list[tuple[Post, Match | None]]:
    rows = session.execute(
        select(Post, Match)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .outerjoin(Match, Match.post_id == Post.id)
        .where(IncidentPost.incident_id == incident_id)
    ).all()
    rows = [(p, m) for p, m in rows]
    rows.sort(key=lambda pm: (pm[0].published_at or pm[0].fetched_at, pm[0].id))
    return rows


def measure(session: Session, incident: Incident, now: datetime) -> Measures:
    """Everything measurable about the incident's posts at ``now``."""
    rows = incident_posts(session, incident.id)
    m = Measures(posts=len(rows))
    if not rows:
        return m
    sites = Counter(site_of(p) for p, _ in rows)
    m.sites, m.site_names = len(sites), [s for s, _ in sites.most_common()]
    times = [p.published_at or p.fetched_at for p, _ in rows]
    m.first_seen, m.last_seen = min(times), max(times)
    first = rows[0][0]
    src = session.get(Source, first.source_id)
    m.first_source = {
        "post_id": first.id,
        "url": first.url if first.url.startswith(("http://", "https://")) else "",
        "title": first.title,
        "author": first.author,
        "site": site_of(first),
        "source": src.name if src else None,
        "time": first.published_at or first.fetched_at,
    }
    hour_ago = now - timedelta(hours=1)
    m.posts_last_hour = sum(1 for t in times if t >= hour_ago)
    span_h = max((max(m.last_seen, now) - m.first_seen).total_seconds() / 3600, 1.0)
    m.posts_per_hour = round(len(rows) / span_h, 2)
    m.replies = sum(p.replies or 0 for p, _ in rows)
    m.views = sum(p.views or 0 for p, _ in rows)
    m.likes = sum(p.likes or 0 for p, _ in rows)
    return m


def top_posts(session: Session, incident: Incident, n: int = 3) -> list[tuple[Post, Match | None]]:
    """The incident's gravest posts (highest score first, the earliest on a tie)."""
    rows = incident_posts(session, incident.id)
    rows.sort(key=lambda pm: (-(pm[1].score if pm[1] is not None else 0), pm[0].id))
    return rows[:n]


def spread_of(session: Session, incident: Incident, now: datetime) -> Spread:
    """What a report tells of the incident's spread (``alerting.compose.story``): the
    measures at ``now``, its first source and its open checklist items."""
    m = measure(session, incident, now)
    items = session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_(None))
        .order_by(ChecklistItem.id)
    )
    return Spread(
        now=now,
        posts=m.posts,
        sites=m.sites,
        site_names=list(m.site_names),
        posts_last_hour=m.posts_last_hour,
        first=m.first_source,
        open_items=[(i.title, i.due_at) for i in items],
    )


def confirmed_by_person(session: Session, incident: Incident, kind: str) -> bool:
    """True once a person (not the system) has set this field through ``kind`` events."""
    return (
        session.scalar(
            select(IncidentEvent.id)
            .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == kind)
            .where(IncidentEvent.actor != "system")
            .limit(1)
        )
        is not None
    )


def propose_category(rows: list[tuple[Post, Match | None]]) -> str | None:
    """The category with the most weight (sum of scores) among the story's posts."""
    weight: Counter[str] = Counter()
    for _, m in rows:
        if m is not None and m.category:
            weight[m.category] += max(m.score, 1)
    return weight.most_common(1)[0][0] if weight else None


def _spread(
    score: int, severity: str | None, m: Measures, span_hours: float
) -> tuple[int, str | None]:
    rate = m.posts_last_hour if span_hours <= 1 else max(m.posts_last_hour, m.posts_per_hour)
    new_score, new_sev = apply_spread(score, severity, rate, m.sites, m.engagement)
    return int(new_score), new_sev


def refresh(session: Session, incident: Incident, now: datetime) -> Measures:
    """Update the measured fields and the proposals (category, severity, scope)."""
    rows = incident_posts(session, incident.id)
    m = measure(session, incident, now)
    incident.post_count, incident.site_count = m.posts, m.sites
    if m.first_source:
        incident.first_post_id = m.first_source["post_id"]
    if m.last_seen and (incident.last_post_at is None or m.last_seen > incident.last_post_at):
        incident.last_post_at = m.last_seen
    if not incident.category or not confirmed_by_person(session, incident, "classified"):
        incident.category = propose_category(rows) or incident.category
    if not confirmed_by_person(session, incident, "severity_set"):
        score = max((mm.score for _, mm in rows if mm is not None), default=incident.score)
        sev = max(
            (
                mm.severity
                for _, mm in rows
                if mm is not None and Severity.get(mm.severity) is not None
            ),
            key=severity_rank,
            default=incident.severity,
        )
        span = ((m.last_seen - m.first_seen).total_seconds() / 3600) if m.first_seen else 0
        score, sev = _spread(score, sev, m, span)
        if severity_rank(sev) >= severity_rank(incident.severity):
            incident.severity = sev
        incident.score = max(incident.score or 0, score)
    if not incident.scope or incident.scope.startswith(AUTO_PREFIX):
        incident.scope = m.summary()
    return m
