"""Who is told, and when: routes by severity, category and unit; silences; quiet hours.

Pure functions over the settings and the session; the outbox calls them when a message
is queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.notify.settings import NotifySettings, QuietHours
from core.errors import SentinelError
from storage.models import Silence

SILENCE_TARGETS = ("incident", "source", "term")


class SilenceError(SentinelError):
    """A silence cannot be added or found."""


# -- recipients -----------------------------------------------------------------------
def recipients_for(
    settings: NotifySettings,
    *,
    severity: str | None,
    category: str | None,
    units: Iterable[str] = (),
) -> list[str]:
    """Recipient groups for an incident: every fitting route adds its groups."""
    units = {u for u in units if u}
    out: list[str] = []
    for r in settings.routes:
        if severity is not None and severity not in r.severity:
            continue
        if severity is None and len(r.severity) < 4:
            continue
        if category is not None and category not in r.category:
            continue
        if category is None and len(r.category) < 4:
            continue
        if r.unit and not (units & set(r.unit)):
            continue
        for g in r.to:
            if g not in out:
                out.append(g)
    return out or list(settings.default_to)


# -- quiet hours ----------------------------------------------------------------------
def _hm(s: str) -> time:
    h, m = s.split(":")
    return time(int(h), int(m))


def quiet_until(
    quiet: QuietHours | None, severity: str | None, now: datetime, tz: ZoneInfo
) -> datetime | None:
    """When a message of ``severity`` queued at ``now`` may go out, if quiet hours hold
    it back; None when it may go at once. Severity Ⅰ–Ⅱ (and unknown) always go."""
    if quiet is None or severity not in quiet.severities:
        return None
    local = now.astimezone(tz)
    start, end = _hm(quiet.start), _hm(quiet.end)
    t = local.time()
    if start == end:
        return None
    if start < end:  # a window inside one day, e.g. 12:00–14:00
        inside = start <= t < end
        end_day = local.date()
    else:  # across midnight, e.g. 22:00–07:30
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


# -- silences -------------------------------------------------------------------------
def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(
        session.scalars(
            select(Silence)
            .where(Silence.starts_at <= now, Silence.ends_at > now)
            .order_by(Silence.id)
        )
    )


class SilenceSet:
    """The silences active at one moment, with the questions the outbox asks."""

    def __init__(self, silences: list[Silence]):
        self.silences = silences
        self.incidents = {s.value for s in silences if s.target == "incident"}
        self.sources = {s.value for s in silences if s.target == "source"}
        self.terms = {s.value.casefold() for s in silences if s.target == "term"}

    @classmethod
    def load(cls, session: Session, now: datetime) -> SilenceSet:
        return cls(active_silences(session, now))

    def incident(self, incident_id: int | None) -> bool:
        return incident_id is not None and str(incident_id) in self.incidents

    def source(self, name: str | None) -> bool:
        return bool(name) and name in self.sources

    def post(self, post, match) -> bool:
        """A post is silenced by its source, or when every topic term it matched is a
        silenced term (a post that also matched another topic still goes out)."""
        if self.source(post.source.name if getattr(post, "source", None) else None):
            return True
        if not self.terms or match is None:
            return False
        hits = list(match.hits or [])
        topical = [h for h in hits if h.get("topic")] or hits
        terms = {str(h.get("term", "")).casefold() for h in topical}
        return bool(terms) and terms <= self.terms


def add_silence(
    session: Session,
    *,
    target: str,
    value: str,
    ends_at: datetime,
    now: datetime,
    created_by: str,
    reason: str | None = None,
) -> Silence:
    """A silence, added by ``created_by`` — an active office user (a silence holds back
    alerts, so nobody else may add one)."""
    from alerting.incidents import roles

    created_by = roles.require(session, created_by, "添加静默规则").name
    if target not in SILENCE_TARGETS:
        raise SilenceError(f"静默对象须为 {' / '.join(SILENCE_TARGETS)}，而不是 {target!r}")
    value = str(value).strip()
    if not value:
        raise SilenceError("静默对象的值不能为空")
    if ends_at <= now:
        raise SilenceError("静默结束时间须晚于当前时间")
    if target == "incident":
        from storage.models import Incident

        if not value.isdigit() or session.get(Incident, int(value)) is None:
            raise SilenceError(f"没有编号为 {value} 的事件；用 sentinel incidents 查看事件编号")
    s = Silence(
        target=target,
        value=value,
        starts_at=now,
        ends_at=ends_at,
        created_by=created_by,
        reason=reason,
    )
    session.add(s)
    session.flush()
    return s


def expire_silence(session: Session, silence_id: int, now: datetime, *, by: str) -> Silence:
    """End a silence now (an active office user)."""
    from alerting.incidents import roles

    roles.require(session, by, "结束静默规则")
    s = session.get(Silence, silence_id)
    if s is None:
        raise SilenceError(f"没有编号为 {silence_id} 的静默规则")
    s.ends_at = min(s.ends_at, now)
    return s
