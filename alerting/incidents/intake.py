"""Intake: a matched post opens a new incident or joins the story it belongs to.

Runs inside the pipeline's transaction, so the incident, its log and its messages are
committed together with the match. Running it twice for the same post changes nothing.

A new incident is announced in one mail: its first alert, which is also the first
escalation level's report to the groups that get both. The second wave of a story whose
incident was closed reopens it within ``incidents.tracking.reopen_within`` (二次危机);
after that it opens a new incident marked 关联事件 #N, announced as a secondary crisis.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose.story import Report
from alerting.incidents import assessment, escalation, evidence, playbooks, tracking, units
from alerting.incidents.clustering import find_incident, post_time, story_key
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import record
from alerting.notify import incident_alerts
from core.vocabulary import JoinReason, Severity, severity_rank
from storage.models import Incident, IncidentPost, Match, Post


def _title(post: Post) -> str:
    t = " ".join((post.title or "").split())
    if not t:
        t = " ".join((post.text or "").split())[:40]
    return t[:200] or post.url


def open_incident(
    session: Session,
    post: Post,
    match: Match | None,
    *,
    config,
    now: datetime,
    reporter: str | None = None,
    note: str | None = None,
    details: dict | None = None,
    related: Incident | None = None,
) -> Incident:
    """A new ticket for a new story, with this post as its first; ``related``: the closed
    incident whose story this continues (关联事件)."""
    inc = Incident(
        title=_title(post),
        status="reported",
        category=match.category if match else None,
        severity=match.severity if match else None,
        score=match.score if match else 0,
        opened_at=now,
        updated_at=now,
        last_post_at=post_time(post, now),
        first_post_id=post.id,
        terms=story_key(match).as_list(),
        reporter=reporter,
        related_to_id=related.id if related is not None else None,
    )
    session.add(inc)
    session.flush()
    session.add(IncidentPost(incident_id=inc.id, post_id=post.id, added_at=now))
    session.flush()
    if reporter:
        record(
            session,
            inc,
            "reported",
            actor=reporter,
            now=now,
            note=note or f"报案：{post.url}",
            post_id=post.id,
            **(details or {}),
        )
    record(
        session,
        inc,
        "opened",
        now=now,
        note=f"立案：{inc.title}" + (f"（关联事件 #{related.id}）" if related is not None else ""),
        post_id=post.id,
        category=inc.category,
        severity=inc.severity,
        related_to=related.id if related is not None else None,
    )
    if related is not None:
        record(
            session,
            related,
            "related",
            now=now,
            note=f"二次危机：已结案超过{_days(config)}天后话题再次出现，另立新事件 #{inc.id}",
            new_incident=inc.id,
        )
    units.from_match(session, inc, match, config, now)
    assessment.refresh(session, inc, now)
    playbooks.apply(session, inc, config, now=now)
    if inc.category == "illegal":
        evidence.preserve(session, inc, now=now)
    return inc


def add_post(
    session: Session,
    incident: Incident,
    post: Post,
    match: Match | None,
    *,
    now: datetime,
    reason: str,
    actor: str = "system",
    note: str | None = None,
    config=None,
) -> None:
    """Attach a post to the incident's story (its spread grows)."""
    session.add(IncidentPost(incident_id=incident.id, post_id=post.id, added_at=now))
    incident.terms = sorted(set(incident.terms or ()) | story_key(match).terms)
    session.flush()
    record(
        session,
        incident,
        "post_added",
        actor=actor,
        now=now,
        note=note or f"{JoinReason.label_of(reason)}：{post.title or post.url}",
        post_id=post.id,
        reason=reason,
    )
    if config is not None:
        units.from_match(session, incident, match, config, now)


def intake(
    session: Session,
    post: Post,
    match: Match | None,
    *,
    config,
    outbox,
    now: datetime,
    reporter: str | None = None,
    note: str | None = None,
    details: dict | None = None,
) -> tuple[Incident, bool]:
    """Place a matched post: (incident, True) when it opened a new incident. A manual
    report names its ``reporter``; ``details`` go into the log's report entry."""
    settings = settings_of(config)
    closed_since = now - timedelta(seconds=settings.tracking.related_within)
    placement = find_incident(
        session, post, match, settings.clustering, now, config.cache_dir, closed_since=closed_since
    )
    related = None
    if (
        placement is not None
        and placement.reason != "same_post"
        and _closed_long_ago(placement.incident, config, now)
    ):
        related, placement = placement.incident, None
    if placement is None:
        inc = open_incident(
            session,
            post,
            match,
            config=config,
            now=now,
            reporter=reporter,
            note=note,
            details=details,
            related=related,
        )
        announce(
            session, inc, [(post, match)], config=config, outbox=outbox, now=now, related=related
        )
        return inc, True

    inc = placement.incident
    if placement.reason == "same_post":
        if reporter:  # a manual report of a post the system already has: record who reported it
            record(
                session,
                inc,
                "reported",
                actor=reporter,
                now=now,
                note=note or f"报案：{post.url}",
                post_id=post.id,
                **(details or {}),
            )
        return inc, False

    known_sites = set(_sites(session, inc))
    before = (inc.category, inc.severity)
    if reporter:
        record(
            session,
            inc,
            "reported",
            actor=reporter,
            now=now,
            note=note or f"报案：{post.url}",
            post_id=post.id,
            **(details or {}),
        )
    add_post(session, inc, post, match, now=now, reason=placement.reason, config=config)
    assessment.refresh(session, inc, now)
    if inc.category != before[0]:
        old = playbooks.for_config(config).get(before[0] or "")
        if old is not None and inc.measures == old.measures:  # the old category's proposal
            inc.measures = None  # the new category's measures are proposed instead
        playbooks.apply(session, inc, config, now=now, keep_open=True)
    if inc.category == "illegal":
        evidence.preserve(session, inc, now=now)
    if severity_rank(inc.severity) > severity_rank(before[1]):
        record(
            session,
            inc,
            "growth",
            now=now,
            note=f"传播扩大，危害程度升至{Severity.label_of(inc.severity)}",
            severity_before=before[1],
            severity=inc.severity,
        )
    if inc.status in tracking.WATCHED:
        tracking.on_new_post(
            session, inc, post, known_sites=known_sites, config=config, outbox=outbox, now=now
        )
        incident_alerts.posts_notified(
            session, inc, [post.id]
        )  # the secondary-crisis alert named it
    else:
        incident_alerts.updated(session, outbox, inc, [(post, match)])
    if settings.escalate_on_open:
        escalation.start(session, inc, config=config, outbox=outbox, now=now)
    return inc, False


def announce(
    session: Session,
    inc: Incident,
    posts: list,
    *,
    config,
    outbox,
    now: datetime,
    related: Incident | None = None,
) -> None:
    """The first alert of a new incident, merged with its first escalation level: the
    groups that get the alert and are in that level get ONE mail that is both (with the
    deadline to acknowledge and what to do); the level's other groups get the report."""
    settings = settings_of(config)
    covered: list[str] = []
    esc = None
    if settings.escalate_on_open:
        covered = incident_alerts.alert_groups(session, outbox, inc, posts, related=related)
        esc = escalation.start(session, inc, config=config, outbox=outbox, now=now, covered=covered)
    report = None
    if esc is not None and set(esc.groups) & set(covered):
        levels = escalation.levels_for(config, inc)
        nxt = tuple(levels[1].notify) if len(levels) > 1 else ()
        report = Report(esc.level, tuple(esc.groups), esc.ack_due_at, nxt)
    incident_alerts.opened(
        session,
        outbox,
        inc,
        posts,
        report=report,
        spread=assessment.spread_of(session, inc, now),
        related=related,
    )


def _closed_long_ago(incident: Incident, config, now: datetime) -> bool:
    """Closed longer ago than ``tracking.reopen_within``: its story coming back is a new
    incident (关联事件), not a reopening."""
    if incident.status != "closed" or incident.closed_at is None:
        return False
    return now - incident.closed_at > timedelta(seconds=settings_of(config).tracking.reopen_within)


def _days(config) -> str:
    return f"{settings_of(config).tracking.reopen_within / 86400:g}"


def _sites(session: Session, incident: Incident) -> list[str]:
    posts = session.scalars(
        select(Post)
        .join(IncidentPost, IncidentPost.post_id == Post.id)
        .where(IncidentPost.incident_id == incident.id)
    )
    return [assessment.site_of(p) for p in posts]
