"""Trends of a period: per day, top sources and terms, hot topics, spikes.

``stats(session, since, now, tz) -> Stats`` is the one domain function behind
``sentinel stats``, the digest's and the weekly report's trend sections and the
console's stats page; ``Stats.to_dict()`` is the contract JSON of ``sentinel stats
--json`` (``../shared/PRODUCT.md``). Read-only.

- ``per_day``: for each day of the period in the office's zone, posts collected, posts
  naming the college, alerts, and ``negative``: the share (0-1) of that day's mentions
  whose polarity is negative.
- ``top_sources``: the sources with most posts naming the college.
- ``top_terms``: topic terms by the number of posts they hit (category vocabulary such
  as 请问 or 转发 left out: it says how, not what).
- ``hot_topics``: the period's mentioned posts gathered into stories (a repost joins its
  original; near-duplicate text, or two shared topic terms, join a story: the rules of
  ``alerting.incidents.clustering``), the biggest first, with at least two posts.
- ``spikes``: hours whose mentions or negative share rose against the same hour of the
  days before (``alerting.trends``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose.text import clean_line
from alerting.incidents.clustering import shingles, similarity, story_key
from alerting.sentiment import label_of
from alerting.trends import Series, Spike, SpikeRules, spikes
from core.times import to_office
from storage.models import Match, Post, Source

TOP = 10
JOIN_SIMILARITY = 0.5  # shingle containment for "the same text"
JOIN_TERMS = 2  # shared topic terms for "the same story in other words"


@dataclass
class DayStats:
    date: date
    posts: int = 0
    mentioned: int = 0
    alerts: int = 0
    negative: float = 0.0  # share of the day's mentions that are negative


@dataclass
class SourceCount:
    source: str
    posts: int


@dataclass
class TermCount:
    term: str
    hits: int


@dataclass
class HotTopic:
    title: str
    posts: int
    sites: int
    first_seen_at: datetime
    sentiment: dict  # {"label", "score"}: the mean polarity of its posts
    post_ids: list[int] = field(default_factory=list)


@dataclass
class Stats:
    since: datetime
    now: datetime
    per_day: list[DayStats]
    top_sources: list[SourceCount]
    top_terms: list[TermCount]
    hot_topics: list[HotTopic]
    spikes: list[Spike]
    tz: ZoneInfo = field(repr=False, default=ZoneInfo("UTC"))

    def to_dict(self) -> dict:
        """The contract JSON: dates as YYYY-MM-DD, times ISO 8601 in the office's zone."""

        def t(x: datetime) -> str:
            return to_office(x, self.tz).isoformat(timespec="seconds")

        return {
            "per_day": [
                {**asdict(d), "date": d.date.isoformat(), "negative": round(d.negative, 3)}
                for d in self.per_day
            ],
            "top_sources": [asdict(s) for s in self.top_sources],
            "top_terms": [asdict(x) for x in self.top_terms],
            "hot_topics": [
                {
                    "title": h.title,
                    "posts": h.posts,
                    "sites": h.sites,
                    "first_seen_at": t(h.first_seen_at),
                    "sentiment": h.sentiment,
                }
                for h in self.hot_topics
            ],
            "spikes": [
                {"at": t(s.at), "metric": s.metric, "value": s.value, "baseline": s.baseline}
                for s in self.spikes
            ],
        }


def post_time(post: Post) -> datetime:
    return post.published_at or post.fetched_at


def stats(
    session: Session,
    since: datetime,
    now: datetime,
    tz: ZoneInfo,
    rules: SpikeRules | None = None,
) -> Stats:
    """The trends of ``[since, now]`` (posts by the time they were collected)."""
    rules = rules or SpikeRules()
    first, last = to_office(since, tz).date(), to_office(now, tz).date()
    days = {
        first + timedelta(days=i): DayStats(first + timedelta(days=i))
        for i in range((last - first).days + 1)
    }
    for (fetched,) in session.execute(
        select(Post.fetched_at).where(Post.fetched_at >= since, Post.fetched_at <= now)
    ):
        d = days.get(to_office(fetched, tz).date())
        if d is not None:
            d.posts += 1
    # Mentions of the period, and of the baseline days before it (for the spikes).
    rows = session.execute(
        select(Post, Match, Source.name)
        .join(Match, Match.post_id == Post.id)
        .join(Source, Source.id == Post.source_id)
        .where(
            Match.mentioned.is_(True),
            Post.fetched_at >= since - timedelta(days=rules.baseline_days),
            Post.fetched_at <= now,
        )
        .order_by(Post.id)
    ).all()
    series = Series([(post_time(p), m.sentiment == "negative") for p, m, _ in rows])
    period = [(p, m, src) for p, m, src in rows if p.fetched_at >= since]
    negative: Counter = Counter()
    sources: Counter = Counter()
    terms: Counter = Counter()
    for p, m, src in period:
        d = days.get(to_office(p.fetched_at, tz).date())
        if d is not None:
            d.mentioned += 1
            d.alerts += bool(m.alert)
            negative[d.date] += m.sentiment == "negative"
        sources[src] += 1
        for term in story_key(m).terms:
            terms[term] += 1
    for d in days.values():
        d.negative = negative[d.date] / d.mentioned if d.mentioned else 0.0
    return Stats(
        since=since,
        now=now,
        per_day=list(days.values()),
        top_sources=[SourceCount(s, n) for s, n in _top(sources)],
        top_terms=[TermCount(t, n) for t, n in _top(terms)],
        hot_topics=hot_topics([(p, m) for p, m, _ in period]),
        spikes=spikes(series, since, now, rules),
        tz=tz,
    )


def _top(c: Counter) -> list[tuple[str, int]]:
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def hot_topics(pairs: list[tuple[Post, Match]], limit: int = TOP) -> list[HotTopic]:
    """Stories of at least two posts, the biggest (then the newest) first."""
    clusters: list[dict] = []
    by_post: dict[int, dict] = {}
    for p, m in sorted(pairs, key=lambda pm: post_time(pm[0])):
        sh = shingles(f"{p.title or ''}{p.text or ''}")
        terms = story_key(m).terms
        home = by_post.get(p.duplicate_of_id) if p.duplicate_of_id else None
        if home is None:
            for c in clusters:
                if any(similarity(sh, x) >= JOIN_SIMILARITY for x in c["shingles"][-20:]) or (
                    len(terms & c["terms"]) >= JOIN_TERMS
                ):
                    home = c
                    break
        if home is None:
            home = {"posts": [], "shingles": [], "terms": set()}
            clusters.append(home)
        home["posts"].append((p, m))
        home["shingles"].append(sh)
        home["terms"] |= terms
        by_post[p.id] = home
    out = []
    for c in clusters:
        posts = c["posts"]
        if len(posts) < 2:
            continue
        scores = [m.sentiment_score for _, m in posts if m.sentiment_score is not None]
        mean = sum(scores) / len(scores) if scores else 0.0
        # Named after its first post with a title (a repost's "转发：" is no title).
        lead = next((p for p, _ in posts if (p.title or "").strip()), posts[0][0])
        sites = {urlsplit(p.url or "").hostname or "" for p, _ in posts} - {""}
        out.append(
            HotTopic(
                title=clean_line(lead.title or lead.text or "", 60) or f"帖子 #{lead.id}",
                posts=len(posts),
                sites=len(sites),
                first_seen_at=min(post_time(p) for p, _ in posts),
                sentiment={"label": label_of(mean), "score": round(mean, 3)},
                post_ids=[p.id for p, _ in posts],
            )
        )
    out.sort(key=lambda h: (-h.posts, -h.first_seen_at.timestamp()))
    return out[:limit]
