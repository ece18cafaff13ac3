"""The personal copies of a message: one per addressed person who may act, each with
that person's own signed link. The outbox asks for them when it stores a message (so a
link is issued only for a message actually stored, and a retry sends the stored bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from alerting.compose import onetap
from alerting.compose.spec import MessageSpec
from alerting.links import rules, tokens
from storage.models import Incident, User


@dataclass(frozen=True)
class Personal:
    """One person's copy: where it goes, whose it is, what it adds to the template."""

    address: str
    person: str
    context: dict


def personal_copies(session, config, spec: MessageSpec, now: datetime) -> list[Personal]:
    """For each address of ``spec`` that is an active user allowed to do its link's
    action: a new token and the template block carrying it. None without
    ``console_url`` (the mail then reads as before, with its other ways to act)."""
    req = spec.link
    if req is None or not config.console_url or spec.incident_id is None:
        return []
    incident = session.get(Incident, spec.incident_id)
    if incident is None:
        return []
    out: list[Personal] = []
    seen: set[str] = set()
    for address in config.addresses(list(spec.to)):
        low = address.strip().lower()
        if low in seen:
            continue
        seen.add(low)
        user = session.scalar(
            select(User)
            .where(func.lower(User.email) == low, User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if user is None or user.name in req.exclude:
            continue
        try:
            rules.check(session, config, incident, user, req.action, req.version)
        except rules.LinkRefused:
            continue
        token = tokens.issue(
            session,
            config,
            user=user,
            incident_id=incident.id,
            action=req.action,
            now=now,
            version=req.version,
        )
        claims = tokens.read(config, token)
        url = onetap.link_url(config.console_url, req.action, token)
        block = onetap.block(
            req.action, person=user.name, url=url, expires_at=claims.expires_at, config=config
        )
        out.append(Personal(address, user.name, {"onetap": block}))
    return out
