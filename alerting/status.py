"""The system's state in one record: sources' health, the backlog, the outbox, the
watchlists and the daemon. ``sentinel status`` prints it; the web console shows it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.errors import SentinelError
from storage import listing, lock
from storage.db import Database
from storage.models import Source


def source_rows(session, config) -> list[dict[str, Any]]:
    """One row per source, configured or only still in the database."""
    configured = {s.name: s for s in config.sources}
    stored = {x.name: x for x in session.scalars(select(Source))}
    rows = []
    for name in sorted(set(configured) | set(stored)):
        src, c = stored.get(name), configured.get(name)
        rows.append({
            "name": name,
            "type": c.type if c else (src.type if src else None),
            "configured": c is not None,
            "enabled": bool(c and c.enabled),
            "robots_obeyed": bool(c.obey_robots) if c else None,
            "last_run_at": src.last_run_at if src else None,
            "last_success_at": src.last_success_at if src else None,
            "last_error_at": src.last_error_at if src else None,
            "last_error_kind": src.last_error_kind if src else None,
            "last_error": src.last_error if src else None,
            "consecutive_failures": src.consecutive_failures if src else 0,
            "last_new": src.last_new if src else 0,
            "last_seen": src.last_seen if src else 0,
            "last_warning": src.last_warning if src else None,
            "healthy": bool(src and src.consecutive_failures == 0 and src.last_success_at),
        })
    return rows


def watchlist_error(config) -> str | None:
    """What the daemon would say on its next reload (schema only: no jieba start-up)."""
    from watchlists.loader import load

    try:
        load(config.watchlist_files())
    except SentinelError as e:
        return str(e)
    return None


def overview(db: Database, config) -> dict[str, Any]:
    """Everything ``sentinel status`` shows, as plain values."""
    from alerting.notify.outbox import Outbox

    with db.session() as s:
        sources = source_rows(s, config)
        counts = listing.counts(s)
    daemon = lock.current(db)
    return {
        "sources": sources,
        "posts": counts["posts"],
        "backlog": counts["backlog"],
        "outbox": Outbox(db, config).status(),
        "watchlist_error": watchlist_error(config),
        "daemon": None if daemon is None else {
            "holder": daemon.holder, "heartbeat_at": daemon.heartbeat_at, "started_at": daemon.started_at,
        },
    }
