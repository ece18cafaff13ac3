"""Early warning (预警): a rise in talk about the college against a rolling baseline,
told once, before any single post crosses the alert threshold.

``check(db, config, outbox, now)`` is the daemon's job (every few minutes). It counts the
posts naming the college collected in the last hour, and the negative ones among them,
against the same hour of the day on each of the past days (``alerting.trends``: at
least ``min_posts`` posts and ``factor`` times the usual; or at least ``min_negative``
negative posts and a negative share ``share_rise`` above the usual). A rise queues one
【舆情预警·异常增长】 notice to the office through the outbox, keyed by the metric and the
hour, and a rise that goes on is not told again for ``QUIET_HOURS``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from alerting.compose.early_warning import early_warning
from alerting.incidents.clustering import story_key
from alerting.trends import Series, SpikeRules, hour_of
from alerting.trends import check as check_window
from storage.models import Match, OutboxMessage, Post

WINDOW = timedelta(hours=1)
QUIET_HOURS = 6  # a rise still going on is told once, not every hour


def check(db, config, outbox, now: datetime, rules: SpikeRules | None = None) -> list[str]:
    """Queue the notices the last hour calls for; returns their keys (empty: none)."""
    rules = rules or SpikeRules()
    start = now - WINDOW
    queued: list[str] = []
    with db.session() as s:
        rows = s.execute(
            select(Post.fetched_at, Match.sentiment)
            .join(Match, Match.post_id == Post.id)
            .where(
                Match.mentioned.is_(True),
                Post.fetched_at >= start - timedelta(days=rules.baseline_days),
                Post.fetched_at <= now,
            )
        ).all()
        series = Series([(t, sentiment == "negative") for t, sentiment in rows])
        # [start, now]: the post collected this very moment counts.
        spikes = check_window(series, start, now + timedelta(microseconds=1), rules)
        if not spikes:
            return queued
        pairs = [
            (p, m)
            for p, m in s.execute(
                select(Post, Match)
                .join(Match, Match.post_id == Post.id)
                .options(selectinload(Post.source))
                .where(Match.mentioned.is_(True), Post.fetched_at >= start, Post.fetched_at <= now)
                .order_by(Post.fetched_at.desc(), Post.id.desc())
            )
        ]
        terms = Counter(t for _, m in pairs for t in story_key(m).terms).most_common(8)
        for spike in spikes:
            recent = s.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.key.like(f"early_warning:{spike.metric}:%"),
                    OutboxMessage.created_at > now - timedelta(hours=QUIET_HOURS),
                )
                .limit(1)
            )
            if recent is not None:
                continue
            at = hour_of(now)
            spec = early_warning(
                type(spike)(at, spike.metric, spike.value, spike.baseline),
                start=start,
                now=now,
                rules=rules,
                pairs=pairs,
                terms=terms,
                config=config,
            )
            if outbox.queue(s, spec) is not None:
                queued.append(spec.key)
    return queued
