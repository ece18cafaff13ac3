"""Backtest: run the current watchlists over stored posts and compare with the
recorded ``Match`` rows. Read-only: nothing is written, no incident is opened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

BATCH = 500


@dataclass
class BacktestReport:
    version: str
    counts: dict[str, int] = field(default_factory=dict)
    added: list[dict] = field(default_factory=list)  # alert now, not recorded as one
    dropped: list[dict] = field(default_factory=list)  # recorded alert, no alert now
    changed: list[dict] = field(default_factory=list)  # alert both times, score/category differ

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "counts": self.counts,
            "added": self.added,
            "dropped": self.dropped,
            "changed": self.changed,
        }


def _brief(m) -> dict | None:
    if m is None:
        return None
    return {
        "mentioned": m.mentioned,
        "alert": m.alert,
        "score": m.score,
        "severity": m.severity,
        "category": m.category,
        "version": getattr(m, "watchlist_version", None),
    }


def run_backtest(
    db,
    matcher,
    since: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """Match every post fetched since ``since`` and compare with its recorded Match."""
    from alerting.incidents.manual import MANUAL_SOURCE
    from storage.models import Match, Post, Source

    # Manual reports (报案) are alerts because a person said so, not the watchlists:
    # leave them out, or every one would show as "dropped".
    manual = select(Source.id).where(Source.name == MANUAL_SOURCE).scalar_subquery()

    report = BacktestReport(version=matcher.version)
    counts = {
        "posts": 0,
        "mentioned": 0,
        "alerts": 0,
        "recorded_alerts": 0,
        "unrecorded": 0,
        "added": 0,
        "dropped": 0,
        "changed": 0,
    }
    with db.session() as s:
        q = select(func.count(Post.id)).where(Post.source_id.is_distinct_from(manual))
        if since is not None:
            q = q.where(Post.fetched_at >= since)
        total = s.scalar(q) or 0
        last_id = 0
        done = 0
        while True:
            q = (
                select(Post, Match)
                .outerjoin(Match, Match.post_id == Post.id)
                .where(Post.id > last_id, Post.source_id.is_distinct_from(manual))
            )
            if since is not None:
                q = q.where(Post.fetched_at >= since)
            rows = s.execute(q.order_by(Post.id).limit(BATCH)).all()
            if not rows:
                break
            for post, rec in rows:
                last_id = post.id
                r = matcher.match(post.text or "", title=post.title or "")
                counts["posts"] += 1
                counts["mentioned"] += int(r.mentioned)
                counts["alerts"] += int(r.alert)
                counts["recorded_alerts"] += int(bool(rec and rec.alert))
                counts["unrecorded"] += int(rec is None)
                after = {
                    "mentioned": r.mentioned,
                    "alert": r.alert,
                    "score": r.score,
                    "severity": r.severity,
                    "category": r.category,
                }
                row = {
                    "id": post.id,
                    "title": post.title or (post.text or "")[:40],
                    "url": post.url,
                    "before": _brief(rec),
                    "after": after,
                }
                was = bool(rec and rec.alert)
                if r.alert and not was:
                    report.added.append(row)
                elif was and not r.alert:
                    report.dropped.append(row)
                elif was and r.alert and (rec.score != r.score or rec.category != r.category):
                    report.changed.append(row)
                done += 1
            s.expunge_all()
            if progress:
                progress(done, total)
    counts["added"], counts["dropped"], counts["changed"] = (
        len(report.added),
        len(report.dropped),
        len(report.changed),
    )
    report.counts = counts
    return report
