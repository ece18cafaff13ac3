"""Source health, in one place (changedetection.io's ``last_error`` and failure count):
what each run writes on its source's record, the state that record is in (in the
office's words: ``core.vocabulary.SourceHealth``), the failure threshold setting, and
the rows ``sentinel status`` — and a web console — show.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.vocabulary import SourceHealth
from crawler.base import Outcome, SourceConfig
from storage.models import Source


class HealthSettings(BaseModel):
    """``health:`` in sentinel.yaml."""

    model_config = ConfigDict(extra="forbid")

    down_after: int = Field(
        3,
        ge=1,
        description="Consecutive failed runs after which a source counts as down and the "
        "office is told (once per outage, and once more when it works again).",
    )


class HealthConfig(Protocol):
    """What the health rows need from the configuration (``sentinel.config.Config``)."""

    sources: Sequence[SourceConfig]
    health: HealthSettings


def record_health(
    session: Session,
    source: Source,
    outcome: Outcome,
    now: datetime,
    *,
    new: int = 0,
    seen: int = 0,
    empty: int = 0,
) -> None:
    """Write one run on its source's record: last success or last error, consecutive
    failures, last counts (``new`` posts stored or changed, ``seen`` unchanged ones,
    ``empty`` pages among them that showed no text). A successful run also keeps the
    source's state (ETag, Last-Modified, its data)."""
    source.last_run_at = now
    source.last_fetched = outcome.fetched
    source.last_warning = "; ".join(outcome.warnings)[:2000] or None
    if outcome.ok:
        source.last_success_at = now
        source.consecutive_failures = 0
        source.etag = outcome.state.etag
        source.last_modified = outcome.state.last_modified
        source.state = dict(outcome.state.data or {})
        source.last_new = new
        source.last_seen = seen
        source.last_empty = empty
        if new:
            source.last_new_at = now
    else:
        source.last_error_at = now
        source.last_error_kind = outcome.error_kind or "error"
        source.last_error = (outcome.error or "")[:2000]
        source.consecutive_failures += 1
        source.last_new = 0
        source.last_seen = 0
        source.last_empty = 0


def is_down(source: Source, settings: HealthSettings) -> bool:
    """Failed ``down_after`` times in a row: what the office is told about."""
    return source.consecutive_failures >= settings.down_after


def sees_no_content(source: Source) -> bool:
    """Its last successful run brought pages, and most of them showed no text: a
    placeholder (加载中, 请开启 JavaScript), a login wall, an empty shell. Nothing there
    can be matched, so the source is not seeing what it is meant to see."""
    pages = (source.last_new or 0) + (source.last_seen or 0)
    empty = source.last_empty or 0
    return pages > 0 and empty * 2 > pages


def is_healthy(source: Source | None) -> bool:
    """Its last run succeeded (whatever the configuration says now)."""
    return bool(source and source.consecutive_failures == 0 and source.last_success_at)


def health_of(
    source: Source | None, configured: SourceConfig | None, settings: HealthSettings
) -> SourceHealth:
    """The state of a source, from its record and its configuration."""
    if configured is None:
        return SourceHealth.UNCONFIGURED
    if not configured.enabled:
        return SourceHealth.DISABLED
    if source is None or source.last_run_at is None:
        return SourceHealth.NEVER_RUN
    if is_down(source, settings):
        return SourceHealth.DOWN
    if source.consecutive_failures:
        return SourceHealth.FAILING
    if sees_no_content(source):
        return SourceHealth.NO_CONTENT
    return SourceHealth.OK


def source_health_rows(session: Session, config: HealthConfig) -> list[dict[str, Any]]:
    """One row per source, configured or once crawled, by name: what ``sentinel status``
    shows. ``health`` is a ``SourceHealth`` key; times are aware UTC datetimes."""
    configured = {c.name: c for c in config.sources}
    records = {x.name: x for x in session.scalars(select(Source))}
    rows = []
    for name in sorted(set(configured) | set(records)):
        src, c = records.get(name), configured.get(name)
        if c is None and src is not None and src.type == "manual":
            continue  # what people report (报案) is collected by nobody: no health to show
        rows.append(
            {
                "name": name,
                "type": c.type if c else (src.type if src else None),
                "configured": c is not None,
                "enabled": bool(c and c.enabled),
                "robots_obeyed": bool(c.obey_robots) if c else None,
                "health": health_of(src, c, config.health).key,
                "healthy": is_healthy(src),
                "last_run_at": src.last_run_at if src else None,
                "last_success_at": src.last_success_at if src else None,
                "last_error_at": src.last_error_at if src else None,
                "last_error_kind": src.last_error_kind if src else None,
                "last_error": src.last_error if src else None,
                "consecutive_failures": src.consecutive_failures if src else 0,
                "last_new": src.last_new if src else 0,
                "last_seen": src.last_seen if src else 0,
                "last_empty": src.last_empty if src else 0,
                "last_warning": src.last_warning if src else None,
                "next_attempt_at": src.next_attempt_at if src else None,
            }
        )
    return rows
