from datetime import timedelta

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
