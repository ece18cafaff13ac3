"""sentinel.yaml reloads without a restart, when the file changes and on SIGHUP; a
broken edit is kept out: the daemon goes on with the last good configuration and says
so in the log, in ``status`` and in one mail."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from sentinel import config as config_mod
from sentinel.cli import cli
from storage import lock
from storage.db import Database
from storage.models import OutboxMessage
from tests.daemon.conftest import start_daemon, wait_for, write_config

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>学院新闻</title><link>http://news.example.edu.cn/{n}</link><description>活动</description></item>
</channel></rss>"""


def _feed(server, name, path, **kw):
    server.add(path, RSS.format(n=name), content_type="application/rss+xml")
    return {"name": name, "type": "feed", "url": server.url(path), "interval": "1h", **kw}


def _write(path, doc):
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def test_sources_reload_on_change_and_a_broken_edit_is_kept_out(
    tmp_path, server, monkeypatch, caplog
):
    import scheduler

    monkeypatch.setattr(scheduler, "CONFIG_CHECK_EVERY", 1)
    path = write_config(
        tmp_path, [_feed(server, "a", "/a.xml")], recipients={"office": ["o@example.edu.cn"]}
    )
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    stop = threading.Event()
    t = threading.Thread(
        target=scheduler.run_daemon, args=(cfg,), kwargs={"stop": stop}, daemon=True
    )
    t.start()
    try:
        assert wait_for(lambda: server.requests_to("/a.xml") == 1, 30)
        doc["sources"].append(
            _feed(server, "b", "/b.xml")
        )  # added: polled at once, a keeps its hour
        _write(path, doc)
        assert wait_for(lambda: server.requests_to("/b.xml") == 1, 15)
        assert server.requests_to("/a.xml") == 1

        caplog.set_level(logging.ERROR, logger="sentinel.reload")
        broken = {
            **doc,
            "sources": [*doc["sources"], {"name": "c", "type": "nosuch", "url": "http://x/"}],
        }
        _write(path, broken)
        assert wait_for(lambda: lock.current(db).config_error, 15)
        assert "nosuch" in lock.current(db).config_error
        assert wait_for(lambda: _config_mails(db) == 1, 10)
        _write(path, broken)  # saved again, the same mistake: no second mail
        time.sleep(2.5)
        assert _config_mails(db) == 1
        assert sum("继续使用上一版有效配置" in r.getMessage() for r in caplog.records) == 1
        r = CliRunner().invoke(cli, ["--config", str(path), "status"])
        assert r.exit_code == 2 and "nosuch" in r.stderr  # the mistake, as any command says it
        assert "配置文件有误" in r.output and "未采用" in r.output and "沿用" in r.output
        assert "a" in r.output and "b" in r.output

        doc["sources"] = [
            doc["sources"][0],
            _feed(server, "d", "/d.xml"),
        ]  # fixed, b removed, d added
        _write(path, doc)
        assert wait_for(lambda: server.requests_to("/d.xml") == 1, 15)
        assert wait_for(lambda: lock.current(db).config_error is None, 10)
        r = CliRunner().invoke(cli, ["--config", str(path), "status"])
        assert "守护进程配置：正常" in r.output
    finally:
        stop.set()
        t.join(timeout=15)
        db.dispose()


def _config_mails(db) -> int:
    with db.session() as s:
        return len(
            s.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "config_error")).all()
        )


@pytest.mark.slow
def test_sighup_reloads_a_change_the_file_watch_cannot_see(tmp_path, server):
    path = write_config(tmp_path, [_feed(server, "a", "/a1.xml")])
    Database(config_mod.load(path).database_url).dispose()
    daemon = start_daemon(path, tmp_path / "daemon.log")
    try:
        assert wait_for(lambda: server.requests_to("/a1.xml") == 1, 60), (
            tmp_path / "daemon.log"
        ).read_text()
        before = os.stat(path)
        text = path.read_text(encoding="utf-8").replace("/a1.xml", "/a2.xml")
        _feed(server, "a", "/a2.xml")
        with open(path, "r+", encoding="utf-8") as fh:  # same file, same size, same time
            fh.write(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        time.sleep(6.5)  # longer than the watch's period: it sees nothing
        assert server.requests_to("/a2.xml") == 0
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: server.requests_to("/a2.xml") == 1, 10), (
            tmp_path / "daemon.log"
        ).read_text()
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=20)
