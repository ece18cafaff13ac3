"""Quiet runs written in one statement (storage/source_rows.py) write what the whole
record would have written, and leave a failing source to the whole record (its
recovery notice); a 304 after an outage still tells the office it is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from crawler.base import Outcome, SourceState
from storage.health import record_health
from storage.models import Source
from storage.source_rows import is_quiet, record_quiet
from tests.servers.http import LoopbackHTTPServer

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_a_quiet_run_writes_what_record_health_writes_and_skips_failing_sources(db):
    with db.session() as s:
        ok = Source(name="ok", type="site", state={"k": 1}, etag='"1"', last_modified="x")
        failing = Source(name="failing", type="feed", state={})
        s.add_all([ok, failing])
        s.flush()
        ok.last_warning, ok.last_new, ok.last_seen, ok.last_empty = "old", 3, 4, 5
        ok.next_attempt_at = T + timedelta(hours=1)
        record_health(s, failing, Outcome(error_kind="timeout", error="timed out"), T)
        ids = (ok.id, failing.id)
    with db.session() as s:
        written = record_quiet(s, [(ids[0], "feed", False, 1), (ids[1], "feed", False, 1)], T)
    assert written == {ids[0]}
    with db.session() as s:
        ok, failing = s.get(Source, ids[0]), s.get(Source, ids[1])
        assert (ok.type, ok.robots_obeyed, ok.last_fetched) == ("feed", False, 1)
        assert ok.last_run_at == T and ok.last_success_at == T
        assert ok.consecutive_failures == 0 and ok.next_attempt_at is None
        assert (ok.last_new, ok.last_seen, ok.last_empty, ok.last_warning) == (0, 0, 0, None)
        assert (ok.etag, ok.last_modified, ok.state) == ('"1"', "x", {"k": 1})  # kept
        assert failing.consecutive_failures == 1 and failing.last_success_at is None


def test_only_an_unchanged_silent_success_is_quiet():
    kept = SourceState(etag='"1"', data={"a": 1})
    same = Outcome(state=kept.copy(), fetched=1, not_modified=True)
    assert is_quiet(same, kept, new=0, seen=0, empty=0)
    assert not is_quiet(same, kept, new=1, seen=0, empty=0)
    assert not is_quiet(same, kept, new=0, seen=2, empty=0)
    assert not is_quiet(
        Outcome(state=SourceState(etag='"2"', data={"a": 1})), kept, new=0, seen=0, empty=0
    )
    assert not is_quiet(Outcome(state=kept.copy(), warnings=["w"]), kept, new=0, seen=0, empty=0)
    assert not is_quiet(Outcome(state=kept.copy(), error="x"), kept, new=0, seen=0, empty=0)


def test_a_source_that_comes_back_with_a_304_is_reported_recovered(tmp_path):
    from demo.mailbox import Mailbox
    from sentinel.cli import cli

    rss = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    with Mailbox(tmp_path / "mail") as mailbox, LoopbackHTTPServer() as srv:
        srv.add("/rss.xml", rss, content_type="application/rss+xml", etag='"v1"')
        cfg = {
            "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "var_dir": str(tmp_path / "var"),
            "sources": [],
            "smtp": {"host": "127.0.0.1", "port": mailbox.port, "from": "yq@example.edu.cn"},
            "recipients": {"office": ["office@example.edu.cn"]},
        }
        path = tmp_path / "sentinel.yaml"

        def poll(url: str) -> None:
            cfg["sources"] = [
                {"name": "news", "type": "feed", "url": url, "obey_robots": False, "timeout": 2}
            ]
            path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
            r = CliRunner().invoke(cli, ["--config", str(path), "poll"])
            assert r.exception is None or isinstance(r.exception, SystemExit), r.output

        poll(srv.url("/rss.xml"))  # works: its ETag kept
        for _ in range(3):
            poll("http://127.0.0.1:9/rss.xml")  # down: 【采集异常】 after the third
        poll(srv.url("/rss.xml"))  # back, and unchanged: a 304
        subjects = [str(m["Subject"]) for m in mailbox.messages()]
        from storage.db import Database

        db = Database(cfg["database"])
        with db.session() as s:
            src = s.scalar(select(Source).where(Source.name == "news"))
            assert src.consecutive_failures == 0 and src.etag == '"v1"'
            assert src.last_fetched == 1
        db.dispose()
    assert sum("采集异常" in x for x in subjects) == 1
    assert sum("采集恢复" in x for x in subjects) == 1
