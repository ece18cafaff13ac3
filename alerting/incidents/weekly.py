"""The weekly report (网络舆情周报) a leader reads: the week in figures, the volume per
day as a chart, incidents by category, and each incident in words — its posts and
sites, category, severity, where it stands and how it was handled."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerting.compose.views import source_label, source_labels
from alerting.incidents import views
from alerting.incidents.review import _env, svg_chart
from core.times import office_time, to_office
from core.vocabulary import Category, IncidentStatus, Severity
from storage.models import Incident, IncidentEvent, Match, Post

TOP_POSTS = 3


def daily_volume(session: Session, since: datetime, now: datetime, tz) -> list[dict]:
    """Posts naming the college, and those needing action, per day of the period (in the
    office's zone), days without posts included."""
    rows = session.execute(
        select(Post.published_at, Post.fetched_at, Match.alert)
        .join(Match, Match.post_id == Post.id)
        .where(Match.mentioned.is_(True), Post.fetched_at >= since, Post.fetched_at <= now)
    ).all()
    mentioned: Counter = Counter()
    alerts: Counter = Counter()
    for published, fetched, alert in rows:
        day = to_office(published or fetched, tz).date()
        mentioned[day] += 1
        alerts[day] += bool(alert)
    first, last = to_office(since, tz).date(), to_office(now, tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [{"date": d, "mentioned": mentioned[d], "alerts": alerts[d]} for d in days]


def _handling(d: dict) -> str:
    """How the incident was handled, in one sentence from its checklist and state."""
    items = d["checklist"]
    done = [i for i in items if i["done_at"]]
    parts = []
    if items:
        parts.append(f"处置事项完成 {len(done)}/{len(items)} 项")
        late = [i for i in items if i["overdue"]]
        if late:
            parts.append("逾期未办：" + "、".join(i["title"] for i in late))
    else:
        parts.append("尚未生成处置清单")
    acked = [e for e in d["escalations"] if e["acked_at"]]
    if d["escalations"]:
        parts.append(
            f"已逐级报告 {len(d['escalations'])} 级" + ("，已确认" if acked else "，尚未确认")
        )
    if d["assessment"].get("measures"):
        parts.append(f"处置措施：{d['assessment']['measures']}")
    return "；".join(parts)


def incident_row(session: Session, inc: Incident, now: datetime, config=None) -> dict:
    d = views.detail(session, inc, now)

    def where(p: dict) -> str:  # the source's display name, else the site
        return (source_label(config, p["source"]) if config is not None else "") or p["site"]

    sites = list(dict.fromkeys(p["site"] for p in d["posts"] if p["site"]))
    top = sorted(
        d["posts"], key=lambda p: (-(p["score"] or 0), p["published_at"] or p["fetched_at"])
    )[:TOP_POSTS]
    return {
        "id": d["id"],
        "title": d["title"],
        "category": Category.label_of(d["category"]),
        "severity": Severity.label_of(d["severity"]),
        "status": IncidentStatus.label_of(d["status"]),
        "post_count": len(d["posts"]),
        "sites": sites,
        "opened_at": d["opened_at"],
        "closed_at": d["closed_at"],
        "acknowledged_at": d["acknowledged_at"],
        "assignee": d["assignee"],
        "handling": _handling(d),
        "top_posts": [
            {"title": p["title"] or "（无标题）", "site": where(p), "url": p["url"]} for p in top
        ],
        "overdue": [i for i in d["checklist"] if i["overdue"]],
        "late_done": [i for i in d["checklist"] if i["done_at"] and i["late"]],
        "secondary": [e for e in d["events"] if e["kind"] in ("secondary_crisis", "related")],
        "related_to": d["related_to"],
    }


def context(session: Session, config, now: datetime, days: int = 7) -> dict:
    tz = config.tz
    since = now - timedelta(days=days)
    touched = select(IncidentEvent.incident_id).where(IncidentEvent.at >= since)
    incs = list(
        session.scalars(
            select(Incident)
            .where(or_(Incident.opened_at >= since, Incident.id.in_(touched)))
            .order_by(Incident.id)
        )
    )
    rows = [incident_row(session, i, now, config) for i in incs]
    volume = daily_volume(session, since, now, tz)
    series = [
        (datetime(v["date"].year, v["date"].month, v["date"].day), v["mentioned"]) for v in volume
    ]
    acks = [
        (r["acknowledged_at"] - r["opened_at"]).total_seconds() / 60
        for r in rows
        if r["acknowledged_at"]
    ]
    by_category = Counter(r["category"] for r in rows)
    from alerting.compose.trends import MAX_DAYS, trends_view
    from alerting.stats import stats

    st = stats(session, since, now, tz)
    negative = {d.date: f"{d.negative:.0%}" for d in st.per_day}
    for v in volume:  # each day's negative share beside its own counts, by date
        v["negative"] = negative.get(v["date"], "0%")
    return {
        "trends": trends_view(st, tz, source_labels(config)),
        "since": since,
        "now": now,
        "rows": rows,
        "volume": volume,
        # The table beside the chart shows the chart's days (the last MAX_DAYS of a long
        # period); the totals above cover the whole period.
        "days": volume[-MAX_DAYS:],
        "days_cut": len(volume) > MAX_DAYS,
        "chart": svg_chart(series, title="每日涉校帖文量", tick="%m-%d", tip="%m月%d日"),
        "opened": [r for r in rows if r["opened_at"] >= since],
        "closed": [r for r in rows if r["closed_at"] and r["closed_at"] >= since],
        "by_category": [(c.label, by_category.get(c.label, 0)) for c in Category]
        + (
            [(Category.label_of(None), by_category[Category.label_of(None)])]
            if by_category.get(Category.label_of(None))
            else []
        ),
        "by_severity": Counter(r["severity"] for r in rows).most_common(),
        "secondary": [(r, e) for r in rows for e in r["secondary"] if e["at"] >= since],
        "ack_avg": round(sum(acks) / len(acks)) if acks else None,
        "overdue_items": [(r, it) for r in rows for it in r["overdue"]],
        "late_done": [(r, it) for r in rows for it in r["late_done"]],
        "fmt": lambda t: office_time(t, tz),
        "tz": tz,
    }


def render(session: Session, config, now: datetime, fmt: str = "html", days: int = 7) -> str:
    return (
        _env(fmt == "html")
        .get_template(f"weekly.{fmt}.j2")
        .render(**context(session, config, now, days))
    )
