"""``render: true`` through the crawl queue: a `sentinel worker` takes the crawl from
Redis, renders the script-written pages in its own Chromium and stores their text."""

from __future__ import annotations

import shutil
import signal

import pytest
import yaml
from sqlalchemy import func, select

from sentinel import config as config_mod
from sentinel.pipeline import Pipeline
from storage.db import Database
from storage.models import CrawlWorker, Post
from tests.daemon.conftest import wait_for
from tests.daemon.test_workers import REDIS, _worker, queue_prefix  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(240),
]

TEXT = "江西警察学院图书馆自习室座位不够，同学们希望延长开放时间，请学校考虑。"
THREAD = (
    "<html><head><meta charset='utf-8'><title>加载中</title></head><body><div id='app'>加载中</div>"
    "<script>setTimeout(function () { document.getElementById('app').innerHTML = "
    "'<h1>自习室</h1><div class=\"post-body\">' + 'TEXT'.repeat(3) + '</div>'; }, 200);"
    "</script></body></html>"
).replace("TEXT", TEXT)


def test_a_crawl_worker_renders_a_script_written_site(tmp_path, server, queue_prefix):  # noqa: F811
    for i in range(3):
        server.add(f"/t/{i}", THREAD)
    links = "".join(f"<a class='t' href='/t/{i}'>帖{i}</a>" for i in range(3))
    start = server.add("/board", f"<html><body>{links}</body></html>")
    path = tmp_path / "sentinel.yaml"
    source = {
        "name": "js-bbs",
        "type": "site",
        "urls": [start],
        "interval": "1h",
        "delay": 0,
        "obey_robots": False,
        "crawl_timeout": "3m",
        "list": {"item": "a.t::attr(href)"},
        "render": True,
        "render_wait": "div.post-body",
    }
    doc = {
        "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "var_dir": str(tmp_path / "var"),
        "crawl_queue": REDIS,
        "crawl_queue_prefix": queue_prefix,
        "sources": [source],
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    log = tmp_path / "w1.log"
    proc = _worker(path, "w1", log)
    try:

        def up():
            with db.session() as s:
                return s.scalar(select(func.count()).select_from(CrawlWorker)) == 1

        assert wait_for(up, 60), log.read_text()
        run = Pipeline(cfg, db).collect(cfg.sources[0])
        assert run.error is None, (run.error, log.read_text()[-2000:])
        with db.session() as s:
            texts = list(s.scalars(select(Post.text)))
        assert len(texts) == 3 and all(TEXT in t for t in texts), texts
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        db.dispose()
