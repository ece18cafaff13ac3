"""Scale-out: with ``crawl_queue: redis://…`` the daemon hands site crawls to ``sentinel
worker`` processes through Redis (scrapy-redis); two workers share one crawl — one
queue, one duplicate filter — and every page is fetched once, every post stored once,
in the shared database (SQLite here, PostgreSQL too); ``status --json`` lists them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from sentinel import config as config_mod
from sentinel.cli import cli
from sentinel.pipeline import Pipeline
from storage.db import Database
from storage.models import CrawlWorker, Post
from tests.daemon.conftest import wait_for

REDIS = "redis://127.0.0.1:6379/15"  # a database of its own; each test its own key prefix
PAGES, PER = 8, 10


@pytest.fixture
def queue_prefix():
    """A key prefix of the test's own on the local Redis (CI starts it; fail loudly)."""
    r = redis.Redis.from_url(REDIS, socket_connect_timeout=3)
    try:
        r.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not reachable at 127.0.0.1:6379; start it (see .ci/run)")
    prefix = f"sentinel-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)


def _site(server) -> str:
    for p in range(1, PAGES + 1):
        links = "".join(
            f'<li><a class="t" href="/t/{(p - 1) * PER + k}.html">帖{k}</a></li>'
            for k in range(PER)
        )
        nxt = f'<a class="nxt" href="/list/{p + 1}.html">下一页</a>' if p < PAGES else ""
        server.add(f"/list/{p}.html", f"<html><body><ul>{links}</ul>{nxt}</body></html>")
    for i in range(PAGES * PER):
        server.add(
            f"/t/{i}.html",
            f"<html><head><title>帖子 {i}</title></head><body><h1>校园帖子第{i}篇</h1>"
            f'<div class="c">第{i}篇：同学们讨论图书馆开放时间和自习室座位。</div></body></html>',
            delay=0.4,
        )  # a slow site: the crawl lasts long enough (~8 s for one worker) for the second
        # worker's crawl process to start and take its share, even on a loaded machine
    return server.url("/list/1.html")


def _worker(path: Path, name: str, log: Path) -> subprocess.Popen:
    sentinel = Path(sys.executable).parent / "sentinel"
    return subprocess.Popen(
        [str(sentinel), "--config", str(path), "worker", "--name", name],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
        cwd=path.parent,
        env={**os.environ},
    )


@pytest.mark.slow
def test_two_workers_share_one_crawl_through_redis_and_no_post_is_stored_twice(
    tmp_path, server, db_url, queue_prefix
):
    start = _site(server)
    path = tmp_path / "sentinel.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database": db_url,
                "var_dir": str(tmp_path / "var"),
                "crawl_queue": REDIS,
                "crawl_queue_prefix": queue_prefix,
                "sources": [
                    {
                        "name": "bbs",
                        "type": "site",
                        "urls": [start],
                        "interval": "1h",
                        "delay": 0,
                        "concurrency": 4,
                        "crawl_timeout": "2m",
                        "list": {
                            "item": "a.t::attr(href)",
                            "next": "a.nxt::attr(href)",
                            "max_pages": PAGES,
                        },
                        "fields": {"title": "h1::text", "body": "div.c"},
                    }
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    procs = [_worker(path, f"w{i}", tmp_path / f"w{i}.log") for i in (1, 2)]
    try:

        def both_up():
            with db.session() as s:
                return s.scalar(select(func.count()).select_from(CrawlWorker)) == 2

        assert wait_for(both_up, 60), (tmp_path / "w1.log").read_text()
        run = Pipeline(cfg, db).collect(cfg.sources[0])  # the daemon's side: hand over, wait
        assert run.error is None, (run.error, (tmp_path / "w1.log").read_text()[-2000:])
        assert run.new == PAGES * PER and run.fetched >= PAGES * (PER + 1)
        fetched = [server.requests_to(f"/t/{i}.html") for i in range(PAGES * PER)]
        assert fetched == [1] * (PAGES * PER)  # one queue, one duplicate filter: each page once
        with db.session() as s:
            assert s.scalar(select(func.count(Post.id))) == PAGES * PER
            assert s.scalar(select(func.count(func.distinct(Post.url)))) == PAGES * PER
            pages = {w.name: w.pages for w in s.scalars(select(CrawlWorker))}
        assert pages["w1"] > 0 and pages["w2"] > 0 and sum(pages.values()) >= PAGES * (PER + 1), (
            pages
        )
        r = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
        listed = {w["name"]: w for w in json.loads(r.output)["workers"]}
        assert set(listed) == {"w1", "w2"} and all(
            w["pages"] > 0 and w["last_seen_at"] for w in listed.values()
        )
        left = [k for k in redis.Redis.from_url(REDIS).scan_iter(f"{queue_prefix}:*")]
        assert left == []  # the run's queue, duplicate filter and stats are cleaned up
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            assert p.wait(timeout=30) == 0
        db.dispose()


def test_a_crawl_nobody_takes_fails_after_its_timeout_and_leaves_nothing_in_redis(
    tmp_path, queue_prefix
):
    path = tmp_path / "sentinel.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "var_dir": str(tmp_path / "var"),
                "crawl_queue": REDIS,
                "crawl_queue_prefix": queue_prefix,
                "sources": [
                    {
                        "name": "bbs",
                        "type": "site",
                        "urls": ["http://127.0.0.1:9/"],
                        "crawl_timeout": 2,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    try:
        run = Pipeline(cfg, db).collect(cfg.sources[0])
    finally:
        db.dispose()
    assert run.error_kind == "crawler" and "sentinel worker" in run.error
    assert list(redis.Redis.from_url(REDIS).scan_iter(f"{queue_prefix}:*")) == []
