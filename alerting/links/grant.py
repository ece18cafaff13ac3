"""Opening and using a one-tap link.

``open`` answers what a token grants (the person, the incident, the action, the reply
to approve) or refuses it with a reason: tampered, expired, used, the person no longer
allowed, the incident moved on. ``use`` does the same checks, marks the link used and
performs the action through the action table (``alerting.incidents.service``) in the
caller's transaction: a second post of the same link finds it used and does nothing.
An approval link lets its leader approve the draft or send it back with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerting.incidents import replies, service
from alerting.incidents.escalation import sent_levels
from alerting.incidents.workflow import WorkflowError
from alerting.links import tokens
from alerting.links.rules import LinkRefused, check
from core.times import office_time, zone_name
from core.vocabulary import Category, IncidentStatus, LinkRefusal, Severity
from storage import signed_links
from storage.models import Incident, Reply, User
from storage.signed_links import SignedLink


@dataclass
class Grant:
    """What an open link allows, with what its page shows."""

    link: SignedLink
    user: User
    incident: Incident
    action: str
    #: The reply version to approve (approve links only).
    reply: Reply | None
    #: What the office calls the act, e.g. 确认收到, 审定通过.
    title: str
    #: The incident's summary as the page shows it (labels and office times).
    summary: dict
    expires: str


def _summary(incident: Incident, config) -> dict:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": Severity.label_of(incident.severity),
        "severity_key": incident.severity or "",
        "category": Category.label_of(incident.category, "待定性"),
        "status": IncidentStatus.label_of(incident.status),
        "opened_at": office_time(incident.opened_at, config.tz),
        "posts": incident.post_count,
        "sites": incident.site_count,
        "acknowledged": (
            f"{incident.acknowledged_by} 已于 {office_time(incident.acknowledged_at, config.tz)} 确认收到"
            if incident.acknowledged_at
            else ""
        ),
    }


def open(session, token: str, *, config, now: datetime, action: str | None = None) -> Grant:
    """What ``token`` grants now, or ``LinkRefused``. ``action``: the page it was opened
    on (a link for one action does not work on the other's page)."""
    claims = tokens.read(config, token)
    if claims is None:
        raise LinkRefused(LinkRefusal.TAMPERED, "请直接点击邮件中的链接，或复制完整的链接地址。")
    if action is not None and claims.action != action:
        raise LinkRefused(LinkRefusal.TAMPERED, "此链接不是用于这一操作的链接")
    link = signed_links.by_nonce(session, claims.nonce)
    if link is None or (
        link.user_id,
        link.incident_id,
        link.action,
        link.reply_version,
        link.expires_at,
    ) != (claims.user_id, claims.incident_id, claims.action, claims.version, claims.expires_at):
        raise LinkRefused(LinkRefusal.TAMPERED, "本系统没有签发过这个链接")
    if link.used_at is not None:
        raise LinkRefused(
            LinkRefusal.USED,
            f"此链接已于 {office_time(link.used_at, config.tz)} 使用过，每个链接只能使用一次。",
        )
    if now >= link.expires_at:
        raise LinkRefused(
            LinkRefusal.EXPIRED,
            f"此链接的有效期至 {office_time(link.expires_at, config.tz)}（{zone_name(config.tz)}），已经失效。",
        )
    user = session.get(User, link.user_id)
    incident = session.get(Incident, link.incident_id)
    if user is None or incident is None:
        raise LinkRefused(LinkRefusal.TAMPERED, "链接所指的人员或事件已不存在")
    check(session, config, incident, user, link.action, link.reply_version)
    reply = replies.latest(session, incident) if link.action == "approve" else None
    summary = _summary(incident, config)
    if link.action == "ack":
        due = [e.ack_due_at for e in sent_levels(session, incident) if not e.acked_at]
        if any(due):
            summary["ack_due"] = office_time(min(d for d in due if d), config.tz)
    return Grant(
        link=link,
        user=user,
        incident=incident,
        action=link.action,
        reply=reply,
        title=service.ACTIONS[link.action].title,
        summary=summary,
        expires=f"{office_time(link.expires_at, config.tz)}（{zone_name(config.tz)}）",
    )


# What a link's page may do besides its own action: an approval link's leader may send
# the draft back instead (退回修改, with a note saying what to change).
DECISIONS = {"approve": ("approve", "reject"), "ack": ("ack",)}


class NoteNeeded(WorkflowError):
    """Sending a reply back needs a note; nothing was done and the link still works."""


def use(
    session,
    token: str,
    now: datetime,
    *,
    config,
    outbox,
    action: str | None = None,
    note: str | None = None,
    decision: str | None = None,
) -> tuple[Grant, service.Outcome]:
    """Perform what ``token`` grants, once, as its person; ``LinkRefused`` otherwise
    (nothing is changed then). ``decision`` "reject" on an approval link sends the draft
    back instead of approving it; it needs a ``note`` (``NoteNeeded`` before the link is
    used up). The caller commits."""
    grant = open(session, token, config=config, now=now, action=action)
    performed = decision or grant.action
    if performed not in DECISIONS.get(grant.action, ()):
        raise LinkRefused(LinkRefusal.TAMPERED, "此链接不是用于这一操作的链接")
    note = (note or "").strip()[:2000] or None
    if performed == "reject" and note is None:
        raise NoteNeeded("退回修改须写明修改意见")
    if not signed_links.claim(session, grant.link, now):
        raise LinkRefused(LinkRefusal.USED, "此链接刚刚已被使用，每个链接只能使用一次。")
    try:
        outcome = service.perform(
            service.Context(session, config, outbox, now),
            grant.incident.id,
            performed,
            {"by": grant.user.name, "note": note},
        )
    except LinkRefused:
        raise
    except WorkflowError as e:
        raise LinkRefused(LinkRefusal.STALE, str(e)) from None
    return grant, outcome
