"""A full disk while storing: the source is marked failing with one line (no SQL dump),
nothing already stored is lost, and the next run, once there is room, stores what the
failed one could not.

The disk is really full for SQLite: every connection opened during the test gets
``PRAGMA max_page_count`` at the database's current size, so the real engine answers
SQLITE_FULL ("database or disk is full") the moment it needs one more page."""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sentinel.cli import cli
from tests.processes import crawl_children
from tests.servers.http import LoopbackHTTPServer


def rss(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>http://news.example/{i}</link><description>{d}</description></item>"
        for i, (t, d) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>校园</title>{body}</channel></rss>'


@pytest.fixture
def disk():
    """``disk["pages"] = n``: no SQLite database opened from now on may grow past n pages."""
    state: dict = {"pages": None}

    def cap(dbapi_conn, _record):
        if state["pages"]:
            dbapi_conn.execute(f"PRAGMA max_page_count = {int(state['pages'])}")

    event.listen(Engine, "connect", cap)
    yield state
    event.remove(Engine, "connect", cap)


def _cli(path, *args):
    r = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--config", path, *args])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def _count(db_file) -> int:
    with sqlite3.connect(db_file) as c:
        return c.execute("SELECT count(*) FROM posts").fetchone()[0]


def test_a_full_disk_marks_the_source_failing_loses_nothing_and_the_next_run_resumes(
    tmp_path, disk
):
    db_file = tmp_path / "db.sqlite"
    first = [(f"校园新闻{i}", "今天学校举行了运动会。") for i in range(3)]
    # Enough new text to need new pages (random, so compression cannot make it fit).
    more = [(f"新帖{i}", os.urandom(1500).hex()) for i in range(200)]
    with LoopbackHTTPServer() as srv:
        srv.add("/rss.xml", rss(first), content_type="application/rss+xml", etag='"v1"')
        path = tmp_path / "sentinel.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{db_file}",
                    "var_dir": str(tmp_path / "var"),
                    "sources": [
                        {
                            "name": "news",
                            "type": "feed",
                            "url": srv.url("/rss.xml"),
                            "delay": 0,
                            "obey_robots": False,
                        }
                    ],
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        path = str(path)
        assert _cli(path, "poll").exit_code == 0 and _count(db_file) == 3

        with sqlite3.connect(db_file) as c:
            disk["pages"] = c.execute("PRAGMA page_count").fetchone()[0]  # the disk is full now
        srv.add("/rss.xml", rss(first + more), content_type="application/rss+xml", etag='"v2"')
        t = time.monotonic()
        r = _cli(path, "poll", "--json")
        assert time.monotonic() - t < 30  # a full disk costs a failed run, not a stuck one
        assert r.exit_code == 1
        [run] = json.loads(r.stdout)["sources"]
        assert run["error_kind"] == "storage", run
        error = run["error"]
        assert (
            "磁盘已满" in error
            and "\n" not in error
            and "[SQL" not in error
            and "parameters" not in error
        )

        status = json.loads(_cli(path, "status", "--json").stdout)
        [src] = status["sources"]
        assert src["last_error_kind"] == "storage" and src["consecutive_failures"] == 1
        assert src["last_error"] == error
        assert "保存失败" in _cli(path, "status").stdout  # the table says it in the office's words
        assert _count(db_file) == 3  # nothing already stored is lost
        with sqlite3.connect(db_file) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        disk["pages"] = None  # room again: the next run stores what the failed one could not
        r = _cli(path, "poll", "--json")
        [run] = json.loads(r.stdout)["sources"]
        assert r.exit_code == 0 and run["new"] == 200 and run["error"] is None
    assert _count(db_file) == 203


def test_a_full_disk_while_the_spider_streams_stops_the_crawl_with_one_line(tmp_path, disk):
    from sentinel import config as config_mod
    from sentinel.pipeline import Pipeline
    from storage.db import Database

    with LoopbackHTTPServer() as srv:
        links = "".join(f'<a class="t" href="/a/{i}.html">帖子 {i}</a>' for i in range(150))
        srv.add("/list.html", f"<html><body>{links}</body></html>")
        for i in range(150):
            srv.add(
                f"/a/{i}.html",
                f"<html><body><h1>标题 {i}</h1><div class=c>{os.urandom(3000).hex()}</div>"
                "</body></html>",
            )
        path = tmp_path / "sentinel.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                    "var_dir": str(tmp_path / "var"),
                    "sources": [
                        {
                            "name": "forum",
                            "type": "site",
                            "urls": [srv.url("/list.html")],
                            "delay": 0,
                            "obey_robots": False,
                            "concurrency": 4,
                            "list": {"item": "a.t::attr(href)"},
                            "fields": {"title": "h1::text", "body": "div.c"},
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        with sqlite3.connect(tmp_path / "db.sqlite") as c:
            disk["pages"] = c.execute("PRAGMA page_count").fetchone()[0]
        db.dispose()  # new connections: capped
        run = Pipeline(cfg, db).collect(cfg.sources[0])
        db.dispose()
    assert run.error_kind == "storage" and "磁盘已满" in run.error and "\n" not in run.error, run
    assert crawl_children() == set()  # the crawl was stopped, not left running
    assert _count(tmp_path / "db.sqlite") == 0
