"""Units (单位) and their information managers (信息管理员).

An incident's units come from who reported it (the reporter's unit), from the
watchlists (a post naming one of an entity's ``units``), or from the office
(``set_unit``). An information manager sees, comments on and adds files to the
incidents of their unit (``roles``), and is told by mail when their report opens or
joins an incident and when that incident is handled.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose import units as words
from alerting.incidents import roles
from alerting.incidents.workflow import WorkflowError, record
from core.vocabulary import Actor, Role, UnitSource
from storage.models import Incident, IncidentEvent, IncidentUnit, Match, User

log = logging.getLogger("sentinel.incidents")


def add(
    session: Session,
    incident: Incident,
    unit: str,
    *,
    via: str,
    now: datetime,
    by: str = Actor.SYSTEM.value,
) -> bool:
    """The unit follows the incident from now on; False when it already did."""
    unit = (unit or "").strip()
    if not unit or unit in roles.units_of(session, incident):
        return False
    session.add(
        IncidentUnit(incident_id=incident.id, unit=unit, via=via, added_at=now, added_by=by)
    )
    session.flush()
    record(
        session,
        incident,
        "unit_set",
        actor=by,
        now=now,
        note=f"{unit}（{UnitSource.label_of(via)}）",
        unit=unit,
        via=via,
    )
    return True


def set_unit(session: Session, incident: Incident, unit: str, *, by: str, now: datetime) -> None:
    """指定责任单位: the office names a unit that follows the incident."""
    user = roles.require(session, by, "指定责任单位", incident)
    unit = (unit or "").strip()
    if not unit:
        raise WorkflowError("请写明单位名称")
    if not add(session, incident, unit, via=UnitSource.OFFICE.value, now=now, by=user.name):
        raise WorkflowError(f"{unit} 已是事件 #{incident.id} 的责任单位")


def from_reporter(session: Session, incident: Incident, user: User, now: datetime) -> None:
    if user.role == Role.UNIT.value and user.unit:
        add(session, incident, user.unit, via=UnitSource.REPORTER.value, now=now)


_watch_cache: dict[tuple, frozenset[str]] = {}


def watchlist_units(config) -> frozenset[str]:
    """The ``units`` of the watchlists' entities (empty when they cannot be read)."""
    try:
        files = [Path(p) for p in config.watchlist_files()]
        stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    except Exception:
        return frozenset()
    if stamp not in _watch_cache:
        try:
            from watchlists import loader

            wl = loader.load(files)
            _watch_cache[stamp] = frozenset(u for e in wl.entities for u in e.units)
        except Exception as e:
            log.debug("watchlist units unavailable: %s", e)
            return frozenset()
    return _watch_cache[stamp]


def from_match(
    session: Session, incident: Incident, match: Match | None, config, now: datetime
) -> None:
    """A post naming one of the watchlists' units brings that unit in. The unit is named
    as its information managers' ``--unit`` names it when that is the end of the
    watchlist's name (刑事侦查系 for 江西警察学院刑事侦查系)."""
    if match is None or not match.hits:
        return
    named = {h.get("term") for h in match.hits if not h.get("topic")} & watchlist_units(config)
    if not named:
        return
    known = set(
        session.scalars(
            select(User.unit).where(User.role == Role.UNIT.value, User.active.is_(True))
        )
    )
    for name in sorted(named):
        unit = next(
            (u for u in sorted(known, key=len, reverse=True) if u and name.endswith(u)), name
        )
        add(session, incident, unit, via=UnitSource.WATCHLIST.value, now=now)


def reporters(session: Session, incident: Incident) -> list[User]:
    """Information managers who reported the incident (in the order they reported)."""
    names = session.scalars(
        select(IncidentEvent.actor)
        .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "reported")
        .order_by(IncidentEvent.id)
    )
    out: list[User] = []
    for name in dict.fromkeys(names):
        u = session.scalar(select(User).where(User.name == name))
        if u is not None and u.active and u.role == Role.UNIT.value and u.email:
            out.append(u)
    return out


def tell_report(
    session: Session,
    incident: Incident,
    user: User,
    *,
    opened: bool,
    report_id: int,
    config,
    outbox,
) -> None:
    """The reporter's receipt, when they are a unit's information manager with an e-mail."""
    if outbox is None or user.role != Role.UNIT.value or not user.email:
        return
    outbox.queue(
        session,
        words.report_received(
            incident, user=user, opened=opened, report_id=report_id, config=config
        ),
    )


def tell_resolved(session: Session, incident: Incident, *, config, outbox) -> None:
    for user in reporters(session, incident):
        outbox.queue(session, words.resolved(incident, user=user, config=config))


def listing(session: Session, incident: Incident) -> list[dict]:
    return [
        {
            "unit": u.unit,
            "via": u.via,
            "via_label": UnitSource.label_of(u.via),
            "added_at": u.added_at,
            "added_by": u.added_by,
        }
        for u in session.scalars(
            select(IncidentUnit)
            .where(IncidentUnit.incident_id == incident.id)
            .order_by(IncidentUnit.id)
        )
    ]
