"""Dynamic tracking (动态跟踪): a handled incident keeps its watch.

While an incident is in tracking (and after it is closed, for reposts of its posts),
clustering still compares new matched posts with its terms, its posts' URLs and their
text. Any new post of the story, the story on a new site, or engagement rising above
the threshold raises a secondary-crisis (二次危机) alert and reopens the incident.
After a quiet period with nothing new, the system proposes closing it (总结评估).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose import reminder, secondary
from alerting.incidents.assessment import measure, site_of
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import record, transition
from storage.models import Incident, IncidentEvent, Post, User

WATCHED = ("tracking", "closed")


def tracking_started(session: Session, incident: Incident) -> IncidentEvent | None:
    """The event that put the incident into tracking most recently."""
    for ev in session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "transition")
        .order_by(IncidentEvent.id.desc())
    ):
        if (ev.data or {}).get("to") == "tracking":
            return ev
    return None


def _recipients(session: Session, incident: Incident) -> list[str]:
    to = ["office", "leaders"]
    if incident.assignee_id:
        user = session.get(User, incident.assignee_id)
        if user and user.email:
            to.append(user.email)
    return to


def secondary_crisis(
    session: Session,
    incident: Incident,
    *,
    reason: str,
    config,
    outbox,
    now: datetime,
    post: Post | None = None,
) -> None:
    """Raise the 二次危机 alert and reopen the incident."""
    was = incident.status
    record(
        session,
        incident,
        "secondary_crisis",
        now=now,
        note=reason,
        post_id=post.id if post else None,
        status_before=was,
    )
    transition(session, incident, "reopened", actor="system", now=now, note=f"二次危机：{reason}")
    outbox.queue(
        session,
        secondary.secondary_crisis(
            incident,
            reason=reason,
            was=was,
            post=post,
            to=_recipients(session, incident),
            config=config,
        ),
    )


def on_new_post(
    session: Session,
    incident: Incident,
    post: Post,
    *,
    known_sites: set[str],
    config,
    outbox,
    now: datetime,
) -> bool:
    """A post joined a watched incident: that is a secondary crisis. True if raised."""
    if incident.status not in WATCHED:
        return False
    site = site_of(post)
    if site not in known_sites:
        reason = f"事件出现在新的网站 {site}：{post.title or post.url}"
    else:
        reason = f"跟踪期间出现新的相关帖文：{post.title or post.url}"
    secondary_crisis(
        session, incident, reason=reason, config=config, outbox=outbox, now=now, post=post
    )
    return True


def check(session: Session, *, config, outbox, now: datetime) -> dict:
    """Once a minute: renewed growth of engagement, and quiet incidents to propose closing."""
    st = settings_of(config).tracking
    out = {"secondary_crisis": 0, "close_proposed": 0}
    for incident in session.scalars(select(Incident).where(Incident.status == "tracking")).all():
        started = tracking_started(session, incident)
        since = started.at if started else incident.updated_at
        m = measure(session, incident, now)
        base = int((started.data or {}).get("engagement", 0)) if started else 0
        if (
            base > 0
            and st.engagement_growth > 0
            and (m.engagement - base) / base >= st.engagement_growth
        ):
            rise = round((m.engagement - base) / base * 100)
            secondary_crisis(
                session,
                incident,
                reason=f"跟踪期间互动量上升 {rise}%（{base} → {m.engagement}）",
                config=config,
                outbox=outbox,
                now=now,
            )
            out["secondary_crisis"] += 1
            continue
        quiet_since = max(x for x in (since, incident.last_post_at) if x is not None)
        if now - quiet_since >= timedelta(seconds=st.quiet_period) and not _proposed_since(
            session, incident, since
        ):
            days = st.quiet_period / 86400
            record(
                session,
                incident,
                "close_proposed",
                now=now,
                note=f"已连续 {days:g} 天无新的相关帖文，建议总结评估后结案",
            )
            outbox.queue(session, reminder.close_proposed(incident, days=days, config=config))
            out["close_proposed"] += 1
    return out


def _proposed_since(session: Session, incident: Incident, since: datetime) -> bool:
    return (
        session.scalar(
            select(IncidentEvent.id)
            .where(
                IncidentEvent.incident_id == incident.id,
                IncidentEvent.kind == "close_proposed",
                IncidentEvent.at >= since,
            )
            .limit(1)
        )
        is not None
    )
