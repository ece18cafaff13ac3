"""Times as the office reads them.

Everything is stored in UTC; everything shown to a person (mails, reports, the CLI, the
console, the daemon's log) is in the configured zone, Beijing time unless
``timezone:`` in ``sentinel.yaml`` says otherwise. ``office_time`` is the one function
that turns a stored time into text; ``set_office_zone`` is called once when the config
is loaded, so that code far from the config (a log formatter, a template filter) still
shows the configured zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
_zone: tzinfo = BEIJING

FORMATS = {
    "minute": "%Y-%m-%d %H:%M",
    "second": "%Y-%m-%d %H:%M:%S",
    "date": "%Y-%m-%d",
    "short": "%m-%d %H:%M",
    "clock": "%H:%M",
}


def set_office_zone(zone: tzinfo | str) -> tzinfo:
    """Make ``zone`` the zone every office-facing time is shown in."""
    global _zone
    _zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return _zone


def office_zone() -> tzinfo:
    """The configured zone (Beijing time by default)."""
    return _zone


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_office(dt: datetime, tz: tzinfo | None = None) -> datetime:
    """``dt`` in the office's zone; a naive time is taken as UTC (that is how it is stored)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz or _zone)


def office_time(
    dt: datetime | None, tz: tzinfo | None = None, *, style: str = "minute", empty: str = "—"
) -> str:
    """A stored time as the office reads it: ``2026-12-01 18:30`` in the configured zone.

    ``style`` is one of ``minute`` (default), ``second``, ``date``, ``short``, ``clock``;
    ``empty`` is shown for no time at all."""
    if dt is None:
        return empty
    return to_office(dt, tz).strftime(FORMATS[style])


def zone_name(tz: tzinfo | None = None) -> str:
    """What to call the zone in a sentence: 北京时间 for Asia/Shanghai, else its key."""
    z = tz or _zone
    key = getattr(z, "key", str(z))
    return "北京时间" if key in ("Asia/Shanghai", "Asia/Chongqing", "PRC", "Asia/Harbin") else key
