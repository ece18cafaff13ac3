"""Digests of matched posts: gathered from the database for a period, worded by
``alerting.compose.digest``, queued as one message.

``run_digest`` is what the daemon calls at each cron time; it is idempotent per period:
the period ends at the latest cron time not after ``now``, and the message key names it.
``sentinel digest`` builds with ``build_digest`` and, with ``--send``, queues with the
same ``queue_digest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from alerting.compose import digest as words
from alerting.compose.render import render
from alerting.notify.outbox import Outbox
from core.errors import SentinelError
from storage.health import sees_no_content
from storage.models import Incident, IncidentPost, Match, OutboxMessage, Post, Source
from storage.types import utcnow

MAX_POSTS_PER_GROUP = 30


class DigestError(SentinelError):
    """A digest cannot be made (unknown name, bad period)."""


@dataclass
class Digest:
    """A rendered digest and its figures."""

    since: datetime
    until: datetime
    subject: str
    html: str
    text: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, Any]:
        c = self.context
        return {
            "since": self.since,
            "until": self.until,
            "alerts": c["n_alerts"],
            "mentions": c["n_mentions"],
            "incidents": len(c["incidents"]),
            "sources_failed": len(c["coverage_failed"]),
            "sources_silent": len(c["coverage_silent"]),
        }


def build_digest(
    db,
    config,
    since: datetime,
    until: datetime,
    *,
    name: str = "",
    max_posts: int = MAX_POSTS_PER_GROUP,
) -> Digest:
    """Render the digest of posts fetched in (since, until]; at most ``max_posts`` listed per group."""
    with db.session() as s:
        rows = s.execute(
            select(Post, Match, IncidentPost.incident_id)
            .join(Match, Match.post_id == Post.id)
            .outerjoin(IncidentPost, IncidentPost.post_id == Post.id)
            .where(Post.fetched_at > since, Post.fetched_at <= until, Match.mentioned.is_(True))
            .order_by(Post.fetched_at, Post.id)
        ).all()
        ids = {inc_id for _p, _m, inc_id in rows if inc_id is not None}
        incidents = (
            {i.id: i for i in s.scalars(select(Incident).where(Incident.id.in_(ids)))}
            if ids
            else {}
        )
        known = {x.name: x for x in s.scalars(select(Source))}
        counts = dict(
            s.execute(
                select(Post.source_id, func.count(Post.id))
                .where(Post.fetched_at > since, Post.fetched_at <= until)
                .group_by(Post.source_id)
            ).all()
        )
        configured = {c.name: c for c in config.sources}
        blind = {n for n, x in known.items() if sees_no_content(x)}
        coverage = words.coverage(configured, known, counts, since, config.tz, blind=blind)
        # Views read the posts' sources and snapshots: made while the session is open.
        subject, context = words.content(
            [tuple(r) for r in rows],
            incidents,
            coverage=coverage,
            since=since,
            until=until,
            config=config,
            name=name,
            max_posts=max_posts,
        )
        from alerting.compose.trends import trends_view
        from alerting.compose.views import source_labels
        from alerting.stats import stats

        context["trends"] = trends_view(
            stats(s, since, until, config.tz), config.tz, source_labels(config)
        )
    html, text = render("digest", context)
    return Digest(since=since, until=until, subject=subject, html=html, text=text, context=context)


def queue_digest(
    db,
    config,
    digest: Digest,
    *,
    to: Iterable[str],
    key: str | None = None,
    now: Callable[[], datetime] = utcnow,
) -> OutboxMessage | None:
    """Queue a built digest as one message: how both the daemon's scheduled digests and
    ``sentinel digest --send`` queue theirs. ``key`` names the period (default: a manual
    digest of its own); the same key twice queues one message."""
    key = key or words.manual_key(digest.until)
    with db.session() as s:  # a second run in between finds the key and stores nothing
        return Outbox(db, config, now=now).queue(
            s, words.message(digest.subject, digest.context, key=key, to=to)
        )


# -- periods and the scheduled job ---------------------------------------------------------
def period_for(
    cron: str, now: datetime, tz, since_seconds: float | None = None
) -> tuple[datetime, datetime]:
    """(start, end] of the period a digest at ``now`` covers: it ends at the latest cron
    time not after ``now`` and starts at the cron time before (or ``since`` earlier)."""
    from apscheduler.triggers.cron import CronTrigger

    trig = CronTrigger.from_crontab(cron, timezone=tz)
    fires: list[datetime] = []
    t = trig.get_next_fire_time(None, now - timedelta(days=32))
    while t is not None and t <= now:
        fires.append(t)
        if len(fires) > 2:
            fires.pop(0)
        t = trig.get_next_fire_time(t, t + timedelta(seconds=1))
    if not fires:
        raise DigestError(f"cron '{cron}' 在过去 32 天内没有触发时间")
    end = fires[-1]
    if since_seconds:
        start = end - timedelta(seconds=since_seconds)
    elif len(fires) == 2:
        start = fires[0]
    else:
        start = end - timedelta(days=1)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def run_digest(db, config, name: str, now: datetime) -> dict[str, Any]:
    """Make and queue the digest ``name`` for the period ending at its latest cron time.
    Running it twice for one period queues one message."""
    cfgs = {d.name: d for d in config.digests}
    if name not in cfgs:
        raise DigestError(f"没有名为 {name} 的摘要；已配置：{', '.join(cfgs) or '（无）'}")
    d = cfgs[name]
    since, until = period_for(d.cron, now, config.tz, d.since)
    key = words.period_key(name, until, config.tz)
    with db.session() as s:
        done = Outbox(db, config).queued(s, key)
    if done:
        return {"name": name, "key": key, "queued": False, "since": since, "until": until}
    digest = build_digest(db, config, since, until, name=name)
    msg = queue_digest(db, config, digest, to=d.to, key=key, now=lambda: now)
    return {
        "name": name,
        "key": key,
        "queued": msg is not None,
        "since": since,
        "until": until,
        **digest.counts,
    }
