"""The crawl workers' records (``sentinel worker``): each keeps its row fresh and counts
its pages; ``sentinel status`` lists them."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import CrawlWorker


def started(db: Database, name: str, now: datetime) -> None:
    """A worker (re)starts: its host, process and start time; in no run yet."""
    with db.session() as s:
        row = s.get(CrawlWorker, name)
        if row is None:
            row = CrawlWorker(name=name, pages=0, posts=0)
            s.add(row)
        row.host, row.pid, row.run = socket.gethostname(), os.getpid(), None
        row.started_at = row.last_seen_at = now


def beat(db: Database, name: str, now: datetime, *, pages: int = 0, posts: int = 0) -> None:
    """The worker is alive at ``now``; ``pages`` and ``posts`` more to its counts."""
    with db.session() as s:
        s.execute(
            update(CrawlWorker)
            .where(CrawlWorker.name == name)
            .values(
                last_seen_at=now, pages=CrawlWorker.pages + pages, posts=CrawlWorker.posts + posts
            )
        )


def in_run(db: Database, name: str, run: str | None, now: datetime) -> None:
    """The run the worker is in now (None: waiting for one)."""
    with db.session() as s:
        s.execute(
            update(CrawlWorker).where(CrawlWorker.name == name).values(run=run, last_seen_at=now)
        )


def rows(session: Session) -> list[dict[str, Any]]:
    """Every worker seen, by name: ``name``, ``host``, ``pid``, ``pages``, ``posts``,
    ``run``, ``started_at``, ``last_seen_at``."""
    return [
        {
            "name": w.name,
            "host": w.host,
            "pid": w.pid,
            "pages": w.pages,
            "posts": w.posts,
            "run": w.run,
            "started_at": w.started_at,
            "last_seen_at": w.last_seen_at,
        }
        for w in session.scalars(select(CrawlWorker).order_by(CrawlWorker.name))
    ]
