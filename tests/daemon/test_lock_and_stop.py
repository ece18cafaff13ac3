"""One daemon per database, whatever its jobs do: the heartbeat has its own thread, a
dead holder's lock is taken at once, a live one never, and a stop ends within 10 s."""

from __future__ import annotations

import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from sentinel import config as config_mod
from storage import lock
from storage.db import Database
from tests.daemon.conftest import hanging, start_daemon, wait_for, write_config


def test_the_heartbeat_goes_on_while_every_pool_is_busy_with_slow_jobs(tmp_path, server):
    import scheduler

    sources = hanging(server, scheduler.FEED_WORKERS + 2) + hanging(
        server, scheduler.CRAWL_WORKERS + 1, "site"
    )
    cfg = config_mod.load(write_config(tmp_path, sources))
    db = Database(cfg.database_url)
    stop = threading.Event()
    t = threading.Thread(
        target=scheduler.run_daemon,
        args=(cfg,),
        kwargs={"stop": stop, "heartbeat_every": 0.2},
        daemon=True,
    )
    t.start()
    try:
        # two at a time per host for the feeds (the HTTP layer's politeness), one per crawl
        assert wait_for(
            lambda: server.requests_to("/hostile/hang") >= 2 + scheduler.CRAWL_WORKERS, 60
        )
        first = lock.current(db).heartbeat_at
        time.sleep(1.5)
        assert lock.current(db).heartbeat_at - first >= timedelta(seconds=1)
        # Another host with a short stale timeout still sees a live daemon.
        with pytest.raises(lock.DaemonRunning):
            lock.acquire(
                db,
                "elsewhere.example:1/abcdef",
                datetime.now(UTC),
                stale_after=timedelta(seconds=1),
            )
    finally:
        stopped_at = time.monotonic()
        stop.set()
        t.join(timeout=15)
        db.dispose()
    assert not t.is_alive() and time.monotonic() - stopped_at < 10


@pytest.mark.slow
def test_a_second_daemon_is_refused_while_the_first_runs_a_slow_job(tmp_path, server):
    path = write_config(tmp_path, hanging(server, 3) + hanging(server, 1, "site"))
    Database(config_mod.load(path).database_url).dispose()  # migrated before either starts
    first = start_daemon(path, tmp_path / "first.log")
    try:
        assert wait_for(lambda: server.requests_to("/hostile/hang") >= 3, 60), (
            tmp_path / "first.log"
        ).read_text()
        second = start_daemon(path, tmp_path / "second.log")
        assert second.wait(timeout=60) != 0
        said = (tmp_path / "second.log").read_text(encoding="utf-8")
        assert "另一个 sentinel 守护进程" in said and f"{socket.gethostname()}:{first.pid}" in said
        assert first.poll() is None
    finally:
        first.kill()
        first.wait()


@pytest.mark.slow
def test_a_restart_right_after_kill_9_starts_and_sigterm_stops_it_within_10_s(tmp_path, server):
    path = write_config(tmp_path, hanging(server, 3) + hanging(server, 1, "site"))
    db = Database(config_mod.load(path).database_url)

    def holder_pid():
        row = lock.current(db)
        return row and int(row.holder.partition("/")[0].rpartition(":")[2])

    first = start_daemon(path, tmp_path / "first.log")
    try:
        assert wait_for(lambda: holder_pid() == first.pid, 60), (tmp_path / "first.log").read_text()
        assert wait_for(lambda: server.requests_to("/hostile/hang") >= 3, 60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert holder_pid() == first.pid  # the dead daemon's lock is still there, heartbeat fresh
    second = start_daemon(path, tmp_path / "second.log")
    try:
        assert wait_for(lambda: holder_pid() == second.pid, 30), (
            tmp_path / "second.log"
        ).read_text()
        assert second.poll() is None
        hangs = server.requests_to("/hostile/hang")
        assert wait_for(
            lambda: server.requests_to("/hostile/hang") >= hangs + 3, 60
        )  # busy with slow jobs
        asked = time.monotonic()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        assert time.monotonic() - asked < 10
        assert lock.current(db) is None  # released on the way out
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
        db.dispose()
