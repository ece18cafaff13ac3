"""A dead source is retried at a growing delay, not at every interval; a 429 and its
Retry-After are honoured; the office hears once when it goes down and once when it is
back, and the source is polled at its interval again after the first success."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from sentinel import config as config_mod
from sentinel.pipeline import Pipeline
from storage.db import Database
from storage.models import OutboxMessage, Source
from tests.daemon.conftest import wait_for, write_config

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>学院新闻</title><link>http://news.example.edu.cn/1</link><description>今日活动</description></item>
</channel></rss>"""


def test_a_429_with_retry_after_puts_off_the_next_attempt(tmp_path, server, clock):
    server.add(
        "/feed.xml",
        "slow down",
        status=429,
        headers={"Retry-After": "900"},
        content_type="text/plain",
    )
    path = write_config(
        tmp_path,
        [{"name": "busy", "type": "feed", "url": server.url("/feed.xml"), "interval": "1m"}],
        backoff={"jitter": 0},
    )
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    try:
        run = Pipeline(cfg, db, now=clock.now).collect(cfg.sources[0])
        assert run.error_kind == "rate_limited"
        assert run.next_attempt_at == clock.now() + timedelta(seconds=900)
        with db.session() as s:
            assert s.scalar(select(Source.next_attempt_at)) == run.next_attempt_at
    finally:
        db.dispose()


@pytest.mark.slow
def test_a_dead_source_backs_off_without_a_storm_and_resumes_its_interval(tmp_path, server):
    import scheduler

    server.add("/feed.xml", FEED, content_type="application/rss+xml")
    path = write_config(
        tmp_path,
        [
            {
                "name": "flaky",
                "type": "feed",
                "url": server.url("/feed.xml"),
                "interval": 1,
                "jitter": 0,
            }
        ],
        backoff={"jitter": 0, "max_delay": "4s"},
        health={"down_after": 2},
    )
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    stop = threading.Event()
    t = threading.Thread(
        target=scheduler.run_daemon, args=(cfg,), kwargs={"stop": stop}, daemon=True
    )
    started = time.monotonic()
    t.start()
    try:
        assert wait_for(
            lambda: server.requests_to("/feed.xml") >= 2, 10
        )  # it works at its interval
        server.add("/feed.xml", "down", status=500, content_type="text/plain")
        worked = server.requests_to("/feed.xml")
        # Failures at about 0 s, 2 s, 6 s (waits of 2, 4, then 4 s capped), 10 s...:
        # at its 1 s interval it would have been asked ten times by now.
        time.sleep(9)
        failing = server.requests_to("/feed.xml")
        assert 2 <= failing - worked <= 4, failing - worked
        server.add("/feed.xml", FEED, content_type="application/rss+xml")
        assert wait_for(
            lambda: server.requests_to("/feed.xml") > failing, 8
        )  # the next attempt works
        recovered = server.requests_to("/feed.xml")
        time.sleep(3.5)
        assert server.requests_to("/feed.xml") >= recovered + 2  # at its interval again
        with db.session() as s:
            kinds = [k for (k,) in s.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id))]
            src = s.scalar(select(Source))
        assert kinds.count("source_down") == 1 and kinds.count("source_recovered") == 1, kinds
        assert src.next_attempt_at is None and src.consecutive_failures == 0
    finally:
        stop.set()
        t.join(timeout=15)
        db.dispose()
    assert time.monotonic() - started < 60


def test_a_site_answering_429_is_rate_limited_and_its_retry_after_honoured(tmp_path, server, clock):
    server.add(
        "/list.html",
        "slow down",
        status=429,
        headers={"Retry-After": "600"},
        content_type="text/plain",
    )
    path = write_config(
        tmp_path,
        [{"name": "bbs", "type": "site", "urls": [server.url("/list.html")], "interval": "1m"}],
        backoff={"jitter": 0},
    )
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    try:
        run = Pipeline(cfg, db, now=clock.now).collect(cfg.sources[0])
        assert run.error_kind == "rate_limited"
        assert run.next_attempt_at == clock.now() + timedelta(seconds=600)
        assert server.requests_to("/list.html") == 1  # not retried at once
    finally:
        db.dispose()
