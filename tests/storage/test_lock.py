import socket
from datetime import UTC, datetime, timedelta

import pytest

from storage import lock


def test_second_daemon_on_the_same_database_refuses_to_start(db, clock):
    lock.acquire(db, "host:1", clock.now())
    with pytest.raises(lock.DaemonRunning, match="另一个 sentinel 守护进程"):
        lock.acquire(db, "host:2", clock.advance(seconds=30))


def test_a_dead_daemons_lock_is_taken_over(db, clock):
    lock.acquire(db, "host:1", clock.now())
    lock.acquire(db, "host:2", clock.advance(minutes=5))  # no heartbeat for 5 minutes
    assert lock.current(db).holder == "host:2"
    assert lock.heartbeat(db, "host:1", clock.now()) is False  # the old one learns it lost


def test_heartbeat_keeps_the_lock_and_release_frees_it(db, clock):
    lock.acquire(db, "host:1", clock.now())
    for _ in range(5):
        assert lock.heartbeat(db, "host:1", clock.advance(seconds=60))
    with pytest.raises(lock.DaemonRunning):
        lock.acquire(db, "host:2", clock.advance(seconds=10))
    lock.release(db, "host:1")
    lock.acquire(db, "host:2", clock.now() + timedelta(seconds=1))
    assert lock.current(db).holder == "host:2"


# -- the holder's process, on this host ----------------------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_lock_whose_process_died_on_this_host_is_taken_at_once(db):
    """After a kill -9 the heartbeat is fresh, but the holder's PID is gone: no wait."""
    now = datetime.now(UTC)
    dead = f"{socket.gethostname()}:{_dead_pid()}/abc123"
    lock.acquire(db, dead, now)
    lock.acquire(db, lock.holder_name(instance=True), now + timedelta(seconds=1))
    assert lock.current(db).holder != dead


def test_a_live_process_on_this_host_keeps_the_lock_however_old_its_heartbeat(db):
    now = datetime.now(UTC)
    alive = lock.holder_name(instance=True)  # this very process
    lock.acquire(db, alive, now)
    with db.session() as s:  # a job held it back for an hour, say
        s.get(lock.DaemonLock, 1).heartbeat_at = now - timedelta(hours=1)
    with pytest.raises(lock.DaemonRunning, match=alive):
        lock.acquire(db, lock.holder_name(instance=True), now)


def test_a_reused_pid_does_not_keep_a_dead_daemons_lock(db):
    """The PID is alive, but its process started after the lock was taken: another
    process got the number; the holder is dead."""
    now = datetime.now(UTC)
    reused = lock.holder_name(instance=True)
    lock.acquire(db, reused, datetime(2001, 1, 1, tzinfo=UTC))
    with db.session() as s:  # a fresh heartbeat, as right after a crash
        s.get(lock.DaemonLock, 1).heartbeat_at = now
    lock.acquire(db, "x", now)
    assert lock.current(db).holder == "x"


def test_another_hosts_lock_waits_for_its_heartbeat_to_go_stale(db):
    now = datetime.now(UTC)
    lock.acquire(db, "elsewhere.example:1234/abcdef", now)
    with pytest.raises(lock.DaemonRunning):
        lock.acquire(db, lock.holder_name(instance=True), now + timedelta(seconds=80))
    lock.acquire(db, lock.holder_name(instance=True), now + timedelta(seconds=91))


def test_the_heartbeat_thread_beats_and_stops_the_daemon_when_the_lock_is_lost(db):
    import threading
    import time

    lost = threading.Event()
    holder = lock.holder_name(instance=True)
    lock.acquire(db, holder, datetime.now(UTC))
    beat = lock.Heartbeat(db, holder, every=0.1, on_lost=lost.set).start()
    try:
        first = lock.current(db).heartbeat_at
        time.sleep(0.5)
        assert lock.current(db).heartbeat_at > first and beat.healthy()
        with db.session() as s:  # another daemon took it over
            s.get(lock.DaemonLock, 1).holder = "elsewhere.example:1/zzzzzz"
        assert lost.wait(5) and beat.lost and not beat.healthy()
    finally:
        beat.stop()
