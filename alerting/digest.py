"""Digests of matched posts: grouped by incident and category, with counts, highlighted
terms, links, and a coverage section (which sources failed or stayed silent).

``run_digest`` is what the daemon calls at each cron time; it is idempotent per period:
the period ends at the latest cron time not after ``now``, and the message key names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from alerting.notify import email as mail
from alerting.notify.outbox import Outbox
from alerting.notify.render import join_url, local_time, post_view, render
from alerting.notify.settings import settings_of
from core.errors import SentinelError
from core.vocabulary import Category, Severity
from storage.models import Incident, IncidentPost, Match, Post, Source

CATEGORY_ORDER = ["illegal", "hype", "inquiry", "constructive", None]
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
            "since": self.since, "until": self.until, "alerts": c["n_alerts"], "mentions": c["n_mentions"],
            "incidents": len(c["incidents"]), "sources_failed": len(c["coverage_failed"]),
            "sources_silent": len(c["coverage_silent"]),
        }


def build_digest(
    db, config, since: datetime, until: datetime, *, name: str = "", max_posts: int = MAX_POSTS_PER_GROUP
) -> Digest:
    """Render the digest of posts fetched in (since, until]; at most ``max_posts`` listed per group."""
    settings = settings_of(config)
    masked = settings.mask_digests
    tz = config.tz
    with db.session() as s:
        rows = s.execute(
            select(Post, Match, IncidentPost.incident_id)
            .join(Match, Match.post_id == Post.id)
            .outerjoin(IncidentPost, IncidentPost.post_id == Post.id)
            .where(Post.fetched_at > since, Post.fetched_at <= until, Match.mentioned.is_(True))
            .order_by(Post.fetched_at, Post.id)
        ).all()
        by_incident: dict[int, list] = {}
        loose_alerts: dict[str | None, list] = {}
        mentions: list = []
        for p, m, inc_id in rows:
            if inc_id is not None:
                by_incident.setdefault(inc_id, []).append((p, m))
            elif m.alert:
                loose_alerts.setdefault(m.category, []).append((p, m))
            else:
                mentions.append((p, m))

        def views(pairs):
            return [post_view(p, m, tz=tz, console_url=config.console_url, masked=masked)
                    for p, m in pairs[:max_posts]], max(0, len(pairs) - max_posts)

        incidents = []
        for inc_id, pairs in by_incident.items():
            inc = s.get(Incident, inc_id)
            shown, more = views(pairs)
            incidents.append({
                "id": inc.id, "title": mail.clean_line(inc.title, 120),
                "severity": Severity.label_of(inc.severity), "category": Category.label_of(inc.category),
                "category_key": inc.category, "status": inc.status, "count": len(pairs),
                "total": inc.post_count, "posts": shown, "more": more,
                "console_url": join_url(config.console_url, f"incidents/{inc.id}"),
                "rank": (["I", "II", "III", "IV"].index(inc.severity) if inc.severity in ("I", "II", "III", "IV") else 9),
            })
        incidents.sort(key=lambda x: (x["rank"], -x["count"]))
        categories = []
        for cat in CATEGORY_ORDER:
            pairs = loose_alerts.get(cat, [])
            if pairs:
                shown, more = views(pairs)
                categories.append({"label": Category.label_of(cat), "count": len(pairs), "posts": shown, "more": more})
        by_cat: dict[str, int] = {}
        for _p, m, _i in rows:
            if m.alert:
                by_cat[Category.label_of(m.category)] = by_cat.get(Category.label_of(m.category), 0) + 1
        coverage_failed, coverage_silent, coverage_ok = _coverage(s, config, since, until)
        term_counts: dict[str, int] = {}
        for _p, m, _i in rows:
            for h in m.hits or []:
                t = mail.clean_line(h.get("term", ""), 30)
                if t:
                    term_counts[t] = term_counts.get(t, 0) + 1
        mention_views, mention_more = views(mentions)
    n_alerts = sum(1 for _p, m, _i in rows if m.alert)
    title = f"舆情{_period_word(since, until)}摘要"
    context = {
        "heading": title,
        "name": name,
        "since": local_time(since, tz),
        "until": local_time(until, tz),
        "n_posts": len(rows),
        "n_alerts": n_alerts,
        "n_mentions": len(rows) - n_alerts,
        "by_category": sorted(by_cat.items(), key=lambda kv: -kv[1]),
        "top_terms": sorted(term_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15],
        "incidents": incidents,
        "categories": categories,
        "mentions": mention_views,
        "mentions_more": mention_more,
        "coverage_failed": coverage_failed,
        "coverage_silent": coverage_silent,
        "coverage_ok": coverage_ok,
        "masked": masked,
    }
    html, text = render("digest", context)
    subject = (f"【舆情摘要】{local_time(since, tz)} 至 {local_time(until, tz)}："
               f"预警 {n_alerts} 条，事件 {len(incidents)} 起")
    if coverage_failed or coverage_silent:
        subject += f"，{len(coverage_failed) + len(coverage_silent)} 个来源异常"
    return Digest(since=since, until=until, subject=subject, html=html, text=text, context=context)


def _period_word(since: datetime, until: datetime) -> str:
    hours = (until - since).total_seconds() / 3600
    if hours <= 1.5:
        return "每小时"
    if hours <= 30:
        return "每日"
    if hours <= 24 * 8:
        return "每周"
    return "阶段"


def _coverage(s, config, since: datetime, until: datetime):
    """(failed, silent, ok) sources in the period, from the sources' health columns."""
    tz = config.tz
    configured = {c.name: c for c in config.sources}
    known = {x.name: x for x in s.scalars(select(Source))}
    counts = dict(
        s.execute(
            select(Post.source_id, func.count(Post.id))
            .where(Post.fetched_at > since, Post.fetched_at <= until)
            .group_by(Post.source_id)
        ).all()
    )
    failed, silent, ok = [], [], []
    for name in sorted(set(configured) | set(known)):
        c, src = configured.get(name), known.get(name)
        if c is not None and not getattr(c, "enabled", True):
            continue
        if c is None:
            continue  # no longer configured: not part of what we meant to see
        row = {"name": mail.clean_line(name, 60), "new": counts.get(src.id, 0) if src else 0,
               "last_success": local_time(src.last_success_at, tz) if src and src.last_success_at else "从未成功",
               "error": "", "failures": src.consecutive_failures if src else 0}
        if src is None or src.last_run_at is None or src.last_run_at <= since:
            row["error"] = "本时段内未运行" if src is not None else "尚未运行"
            silent.append(row)
        elif (src.last_error_at and src.last_error_at > since) or src.consecutive_failures:
            row["error"] = mail.clean_line(f"{src.last_error_kind or '错误'}：{src.last_error or ''}", 120)
            failed.append(row)
        elif row["new"] == 0 and not (src.last_new_at and src.last_new_at > since):
            row["error"] = "本时段内没有新内容"
            silent.append(row)
        else:
            ok.append(row)
    return failed, silent, ok


# -- periods and the scheduled job ---------------------------------------------------------
def period_for(cron: str, now: datetime, tz, since_seconds: float | None = None) -> tuple[datetime, datetime]:
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


def enqueue_digest(outbox: Outbox, session, digest: Digest, *, key: str, to: list[str]):
    """Store the digest as one message (the HTML is rendered once, here)."""
    return outbox.enqueue_rendered(
        session, key=key, kind="digest", to=to, subject=digest.subject, html=digest.html, text=digest.text
    )


def run_digest(db, config, name: str, now: datetime) -> dict[str, Any]:
    """Make and queue the digest ``name`` for the period ending at its latest cron time.
    Running it twice for one period queues one message."""
    cfgs = {d.name: d for d in config.digests}
    if name not in cfgs:
        raise DigestError(f"没有名为 {name} 的摘要；已配置：{', '.join(cfgs) or '（无）'}")
    d = cfgs[name]
    since, until = period_for(d.cron, now, config.tz, d.since)
    key = f"digest:{name}:{until.astimezone(config.tz).strftime('%Y%m%dT%H%M')}"
    outbox = Outbox(db, config, now=lambda: now)
    from storage.models import OutboxMessage

    with db.session() as s:
        done = s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None
    if done:
        return {"name": name, "key": key, "queued": False, "since": since, "until": until}
    digest = build_digest(db, config, since, until, name=name)
    with db.session() as s:  # a second run in between finds the key and stores nothing
        msg = enqueue_digest(outbox, s, digest, key=key, to=list(d.to))
    return {"name": name, "key": key, "queued": msg is not None, "since": since, "until": until, **digest.counts}
