"""The system's state in one record: sources' health, the backlog, the outbox, the
watchlists and the daemon. ``sentinel status`` prints it; the web console shows it."""

from __future__ import annotations

from typing import Any

from core.errors import SentinelError
from storage import listing, lock, workers
from storage.db import Database
from storage.health import source_health_rows


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
        sources = source_health_rows(s, config)
        counts = listing.counts(s)
        crawl_workers = workers.rows(s)
    daemon = lock.current(db)
    return {
        "sources": sources,
        "posts": counts["posts"],
        "backlog": counts["backlog"],
        "outbox": Outbox(db, config).status(),
        "watchlist_error": watchlist_error(config),
        "workers": crawl_workers,  # `sentinel worker` processes taking crawls from the crawl queue
        "daemon": None
        if daemon is None
        else {
            "holder": daemon.holder,
            "heartbeat_at": daemon.heartbeat_at,
            "started_at": daemon.started_at,
            # A broken sentinel.yaml the daemon keeps out, and when it loaded the one it runs with.
            "config_error": daemon.config_error,
            "config_loaded_at": daemon.config_loaded_at,
        },
    }
