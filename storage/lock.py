"""One daemon per database: a heartbeat row that a second daemon respects.

APScheduler's job state must never be driven by two schedulers at once, and two
daemons would poll every source twice. The lock is a single row with a heartbeat;
a row whose heartbeat is older than ``stale_after`` belongs to a daemon that died and
is taken over.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import SentinelError
from storage.db import Database
from storage.models import DaemonLock

STALE_AFTER = timedelta(seconds=90)


class DaemonRunning(SentinelError):
    """Another daemon holds the database."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(db: Database, holder: str, now: datetime, stale_after: timedelta = STALE_AFTER) -> None:
    try:
        with db.session() as s:
            row = s.scalar(select(DaemonLock).where(DaemonLock.id == 1).with_for_update())
            if row is not None and row.holder != holder and now - row.heartbeat_at < stale_after:
                raise DaemonRunning(
                    f"另一个 sentinel 守护进程（{row.holder}）正在使用同一数据库，"
                    f"最近心跳 {row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC；本进程不再启动。"
                )
            if row is None:
                s.add(DaemonLock(id=1, holder=holder, heartbeat_at=now, started_at=now))
            else:
                row.holder, row.heartbeat_at, row.started_at = holder, now, now
    except IntegrityError:
        raise DaemonRunning("另一个 sentinel 守护进程刚刚启动并占用了同一数据库；本进程不再启动。") from None


def heartbeat(db: Database, holder: str, now: datetime) -> bool:
    """Refresh the heartbeat; False when the lock was taken over by someone else."""
    with db.session() as s:
        row = s.get(DaemonLock, 1)
        if row is None or row.holder != holder:
            return False
        row.heartbeat_at = now
        return True


def release(db: Database, holder: str) -> None:
    with db.session() as s:
        row = s.get(DaemonLock, 1)
        if row is not None and row.holder == holder:
            s.delete(row)


def current(db: Database) -> DaemonLock | None:
    with db.session() as s:
        return s.get(DaemonLock, 1)
