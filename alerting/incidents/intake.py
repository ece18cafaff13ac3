"""Intake: a matched post opens a new incident or joins the story it belongs to.

Runs inside the pipeline's transaction, so the incident, its log and its messages are
committed together with the match. Running it twice for the same post changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents import assessment, escalation, evidence, playbooks, tracking, units
from alerting.incidents.clustering import find_incident, post_time, story_key
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import record
from alerting.notify import incident_alerts
from core.vocabulary import JoinReason, severity_rank
from storage.models import Incident, IncidentPost, Match, Post


def _title(post: Post) -> str:
    t = " ".join((post.title or "").split())
    if not t:
        t = " ".join((post.text or "").split())[:40]
    return t[:200] or post.url


def open_incident(
    session: Session, post: Post, match: Match | None, *, config, now: datetime, reporter: str | None = None,
    note: str | None = None, details: dict | None = None,
) -> Incident:
    """A new ticket for a new story, with this post as its first."""
    inc = Incident(
        title=_title(post), status="reported", category=match.category if match else None,
        severity=match.severity if match else None, score=match.score if match else 0,
        opened_at=now, updated_at=now, last_post_at=post_time(post, now), first_post_id=post.id,
        terms=story_key(match).as_list(), reporter=reporter,
    )
    session.add(inc)
    session.flush()
    session.add(IncidentPost(incident_id=inc.id, post_id=post.id, added_at=now))
    session.flush()
    if reporter:
        record(session, inc, "reported", actor=reporter, now=now, note=note or f"报案：{post.url}", post_id=post.id,
               **(details or {}))
    record(session, inc, "opened", now=now, note=f"立案：{inc.title}", post_id=post.id,
           category=inc.category, severity=inc.severity)
    units.from_match(session, inc, match, config, now)
    assessment.refresh(session, inc, now)
    playbooks.apply(session, inc, config, now=now)
    if inc.category == "illegal":
        evidence.preserve(session, inc, now=now)
    return inc


def add_post(session: Session, incident: Incident, post: Post, match: Match | None, *, now: datetime,
             reason: str, actor: str = "system", note: str | None = None, config=None) -> None:
    """Attach a post to the incident's story (its spread grows)."""
    session.add(IncidentPost(incident_id=incident.id, post_id=post.id, added_at=now))
    incident.terms = sorted(set(incident.terms or ()) | story_key(match).terms)
    session.flush()
    record(session, incident, "post_added", actor=actor, now=now,
           note=note or f"{JoinReason.label_of(reason)}：{post.title or post.url}", post_id=post.id, reason=reason)
    if config is not None:
        units.from_match(session, incident, match, config, now)


def intake(session: Session, post: Post, match: Match | None, *, config, outbox, now: datetime,
           reporter: str | None = None, note: str | None = None, details: dict | None = None) -> tuple[Incident, bool]:
    """Place a matched post: (incident, True) when it opened a new incident. A manual
    report names its ``reporter``; ``details`` go into the log's report entry."""
    settings = settings_of(config)
    placement = find_incident(session, post, match, settings.clustering, now, config.cache_dir)
    if placement is None:
        inc = open_incident(session, post, match, config=config, now=now, reporter=reporter, note=note,
                            details=details)
        incident_alerts.opened(session, outbox, inc, [(post, match)])
        if settings.escalate_on_open:
            escalation.start(session, inc, config=config, outbox=outbox, now=now)
        return inc, True

    inc = placement.incident
    if placement.reason == "same_post":
        if reporter:  # a manual report of a post the system already has: record who reported it
            record(session, inc, "reported", actor=reporter, now=now, note=note or f"报案：{post.url}", post_id=post.id,
                   **(details or {}))
        return inc, False

    known_sites = set(_sites(session, inc))
    before = (inc.category, inc.severity)
    if reporter:
        record(session, inc, "reported", actor=reporter, now=now, note=note or f"报案：{post.url}", post_id=post.id,
               **(details or {}))
    add_post(session, inc, post, match, now=now, reason=placement.reason, config=config)
    assessment.refresh(session, inc, now)
    if inc.category != before[0]:
        playbooks.apply(session, inc, config, now=now, keep_open=True)
    if inc.category == "illegal":
        evidence.preserve(session, inc, now=now)
    if severity_rank(inc.severity) > severity_rank(before[1]):
        record(session, inc, "growth", now=now, note=f"传播扩大，危害程度升至 {inc.severity}",
               severity_before=before[1], severity=inc.severity)
    if inc.status in tracking.WATCHED:
        tracking.on_new_post(session, inc, post, known_sites=known_sites, config=config, outbox=outbox, now=now)
        incident_alerts.posts_notified(session, inc, [post.id])  # the secondary-crisis alert named it
    else:
        incident_alerts.updated(session, outbox, inc, [(post, match)])
    if settings.escalate_on_open:
        escalation.start(session, inc, config=config, outbox=outbox, now=now)
    return inc, False


def _sites(session: Session, incident: Incident) -> list[str]:
    posts = session.scalars(
        select(Post).join(IncidentPost, IncidentPost.post_id == Post.id).where(IncidentPost.incident_id == incident.id)
    )
    return [assessment.site_of(p) for p in posts]
