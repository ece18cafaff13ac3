"""One daemon per database: a lock row with a heartbeat that a second daemon respects.

APScheduler's job state must never be driven by two schedulers at once, and two
daemons would poll every source twice. The lock is a single row naming its holder
(``host:pid/instance``) with a heartbeat refreshed by ``Heartbeat``, a thread of its
own that no job can hold back. A second daemon takes the row over only when its holder
is certainly gone:

- on the same host, at once when the holder's process is dead (after ``kill -9`` or a
  crash: no waiting for the heartbeat to go stale), and never while it is alive,
  however old its heartbeat;
- from another host, when the heartbeat is older than ``stale_after`` (90 s).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import SentinelError
from storage.db import Database
from storage.models import DaemonLock

log = logging.getLogger("sentinel.lock")

STALE_AFTER = timedelta(seconds=90)
BEAT_EVERY = 10.0  # seconds between heartbeats: 9 may be missed before the lock is stale


class DaemonRunning(SentinelError):
    """Another daemon holds the database."""


def holder_name(instance: bool = False) -> str:
    """``host:pid``; with ``instance``, ``host:pid/xxxxxx``, unique to one daemon (two
    daemons started in one process — tests, the demo — are told apart too)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}/{secrets.token_hex(3)}" if instance else name


def _host_and_pid(holder: str) -> tuple[str, int | None]:
    host, _, rest = holder.partition("/")[0].rpartition(":")
    return host, int(rest) if rest.isdigit() else None


def _process_started(pid: int) -> datetime | None:
    """When process ``pid`` started (from /proc), or None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith(b"btime"))
        ticks = int(fields[19])  # field 22 of stat, counted after the command name
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def holder_alive_here(holder: str, since: datetime | None) -> bool | None:
    """Is the holder a live process of this host? True or False on this host, None for
    another host (only its heartbeat can tell). A live PID whose process started after
    the lock was taken (``since``) is a reused PID: the holder is dead."""
    host, pid = _host_and_pid(holder)
    if host != socket.gethostname() or pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    started = _process_started(pid)
    return not (
        started is not None and since is not None and started > since + timedelta(seconds=5)
    )


def acquire(db: Database, holder: str, now: datetime, stale_after: timedelta = STALE_AFTER) -> None:
    """Take the lock for ``holder`` or raise ``DaemonRunning`` naming the live holder."""
    try:
        with db.session() as s:
            row = s.scalar(select(DaemonLock).where(DaemonLock.id == 1).with_for_update())
            if row is not None and row.holder != holder:
                alive = holder_alive_here(row.holder, row.started_at)
                if alive or (alive is None and now - row.heartbeat_at < stale_after):
                    raise DaemonRunning(
                        f"另一个 sentinel 守护进程（{row.holder}）正在使用同一数据库，"
                        f"最近心跳 {row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC；本进程不再启动。"
                    )
                why = (
                    "进程已不存在"
                    if alive is False
                    else f"超过 {stale_after.total_seconds():g} 秒没有心跳"
                )
                log.warning("接管守护进程锁：上一个持有者 %s %s", row.holder, why)
            if row is None:
                s.add(DaemonLock(id=1, holder=holder, heartbeat_at=now, started_at=now))
            else:
                row.holder, row.heartbeat_at, row.started_at = holder, now, now
    except IntegrityError:
        raise DaemonRunning(
            "另一个 sentinel 守护进程刚刚启动并占用了同一数据库；本进程不再启动。"
        ) from None


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


def record_config(db: Database, holder: str, error: str | None, loaded_at: datetime | None) -> None:
    """The daemon's configuration state on its lock row (what ``status`` shows)."""
    with db.session() as s:
        row = s.get(DaemonLock, 1)
        if row is not None and row.holder == holder:
            row.config_error = error
            if loaded_at is not None:
                row.config_loaded_at = loaded_at


def current(db: Database) -> DaemonLock | None:
    with db.session() as s:
        return s.get(DaemonLock, 1)


class Heartbeat:
    """The lock's heartbeat on a thread of its own, every ``every`` seconds, never
    queued behind the daemon's jobs. When the lock turns out to belong to someone else,
    ``on_lost`` is called once and the beat stops: the daemon then stops too. A failing
    database write is logged and tried again at the next beat."""

    def __init__(
        self,
        db: Database,
        holder: str,
        *,
        every: float = BEAT_EVERY,
        on_lost: Callable[[], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.db, self.holder, self.every = db, holder, every
        self.on_lost, self.now = on_lost, now
        self.last_beat: datetime | None = None  # the last heartbeat written
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.last_beat = self.now()  # acquire() has just written it
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def healthy(self) -> bool:
        """The last heartbeat was written within three beats."""
        last = self.last_beat
        return (
            not self.lost
            and last is not None
            and (self.now() - last).total_seconds() < 3 * self.every
        )

    def beat(self) -> bool:
        """One heartbeat now; False when the lock is lost."""
        at = self.now()
        try:
            ok = heartbeat(self.db, self.holder, at)
        except Exception as e:
            log.warning(
                "守护进程心跳写入失败（%s），稍后重试",
                str(e).splitlines()[0][:200] if str(e) else e,
            )
            return True
        if ok:
            self.last_beat = at
            return True
        self.lost = True
        log.error("守护进程锁已被其他进程接管，本进程停止。")
        if self.on_lost:
            self.on_lost()
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if not self.beat():
                return
