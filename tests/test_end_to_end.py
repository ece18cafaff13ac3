"""The walking skeleton end to end: the demo campus web over loopback → posts with raw
snapshots → matching → an incident → an alert e-mail through a real SMTP server
(aiosmtpd) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from sentinel import config as config_mod
from sentinel.cli import cli
from storage.db import Database
from storage.models import Incident, Match, OutboxMessage, Post, Snapshot, Source
from storage.posts import snapshot_bytes


class ScenarioClock:
    """Seconds since the world started, moved by the test."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def make_world(tmp_path, db_url=None):
    from demo.mailbox import Mailbox
    from demo.world import CampusWorld

    clock = ScenarioClock()
    mailbox = Mailbox(tmp_path / "mail")
    mailbox.start()
    world = CampusWorld(clock=clock)
    world.start()
    cfg = world.sentinel_config(tmp_path / "var", mailbox.port, delay=0)
    if db_url:
        cfg["database"] = db_url
    path = tmp_path / "sentinel.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return clock, world, mailbox, path


def test_scenario_becomes_incident_and_alert_mail(tmp_path, db_url):
    from sentinel.pipeline import Pipeline

    clock, world, mailbox, path = make_world(tmp_path, db_url)
    try:
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        pipeline = Pipeline(cfg, db)
        clock.t = 0
        runs, _, _ = pipeline.poll()
        assert all(r.error is None for r in runs), [r.to_dict() for r in runs]
        clock.t = 400  # the whole scenario has appeared
        runs, stats, _sent = pipeline.poll()
        assert all(r.error is None for r in runs), [r.to_dict() for r in runs]
        assert stats.alerts >= 1 and stats.incidents_opened >= 1

        with db.session() as s:
            posts = s.scalars(select(Post)).all()
            assert len(posts) >= 8
            # Every post keeps the response exactly as fetched, with its hash.
            for p in posts:
                snap = s.get(Snapshot, p.snapshot_id)
                body = snapshot_bytes(snap)
                assert hashlib.sha256(body).hexdigest() == snap.sha256
            # The GBK forum decoded: Chinese text, no replacement characters.
            forum = [
                p
                for p in posts
                if "gbk"
                in (
                    s.get(Snapshot, p.snapshot_id).headers.get("content-type", "")
                    + s.get(Snapshot, p.snapshot_id).headers.get("Content-Type", "")
                ).lower()
            ]
            assert forum and all("\ufffd" not in p.text and "\ufffd" not in p.title for p in forum)
            assert any("江西警" in p.title + p.text for p in forum)
            incidents = s.scalars(select(Incident)).all()
            assert incidents
            assert s.scalar(select(Match).where(Match.alert.is_(True)).limit(1)) is not None
            assert s.scalar(select(OutboxMessage).where(OutboxMessage.status == "sent").limit(1))
            sources = {x.name: x for x in s.scalars(select(Source))}
            assert all(x.last_success_at and x.consecutive_failures == 0 for x in sources.values())

        mails = mailbox.messages()
        assert mails, "no alert e-mail arrived"
        assert any("舆情" in str(m["Subject"]) for m in mails)

        # Polling again changes nothing and sends nothing twice.
        before = len(mailbox.messages())
        runs, stats, _ = pipeline.poll()
        assert sum(r.new for r in runs) == 0 and stats.incidents_opened == 0
        assert len(mailbox.messages()) == before
        db.dispose()
    finally:
        world.stop()
        mailbox.stop()


def test_cli_poll_posts_incidents_status_json(tmp_path):
    clock, world, mailbox, path = make_world(tmp_path)
    try:
        clock.t = 400
        run = CliRunner().invoke
        r = run(cli, ["--config", str(path), "poll", "--json"])
        assert r.exit_code == 0, r.output
        import json

        data = json.loads(r.output)
        assert {s["source"] for s in data["sources"]} == {
            s["name"] for s in yaml.safe_load(path.read_text())["sources"]
        }
        assert all({"fetched", "new", "errors"} <= set(s) for s in data["sources"])
        assert sum(s["new"] for s in data["sources"]) >= 8

        r = run(cli, ["--config", str(path), "posts", "--json", "--matched"])
        posts = json.loads(r.output)
        assert posts and {
            "id",
            "source",
            "url",
            "title",
            "text",
            "author",
            "published_at",
            "fetched_at",
        } <= set(posts[0])

        r = run(cli, ["--config", str(path), "incidents", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)

        r = run(cli, ["--config", str(path), "status", "--json"])
        assert r.exit_code == 0, r.output
        status = json.loads(r.output)
        assert all(s["healthy"] for s in status["sources"])
        assert status["backlog"] == 0
    finally:
        world.stop()
        mailbox.stop()


def test_a_dead_source_does_not_stop_the_others(tmp_path):
    clock, world, mailbox, path = make_world(tmp_path)
    try:
        cfg = yaml.safe_load(path.read_text())
        cfg["sources"].append(
            {
                "name": "dead-site",
                "type": "feed",
                "url": "http://127.0.0.1:9/rss.xml",
                "interval": "5m",
                "timeout": 3,
            }
        )
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        clock.t = 400
        r = CliRunner().invoke(cli, ["--config", str(path), "poll", "--json"])
        import json

        data = json.loads(r.output)
        by = {s["source"]: s for s in data["sources"]}
        assert by["dead-site"]["errors"] == 1 and by["dead-site"]["error_kind"]
        assert sum(s["new"] for n, s in by.items() if n != "dead-site") >= 8
        r = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
        st = {s["name"]: s for s in json.loads(r.output)["sources"]}
        assert st["dead-site"]["consecutive_failures"] == 1 and not st["dead-site"]["healthy"]
    finally:
        world.stop()
        mailbox.stop()


def test_daemon_collects_and_mails_then_stops(tmp_path):
    import scheduler

    clock, world, mailbox, path = make_world(tmp_path)
    try:
        clock.t = 400
        cfg = config_mod.load(path)
        stop = threading.Event()
        t = threading.Thread(
            target=scheduler.run_daemon, args=(cfg,), kwargs={"stop": stop}, daemon=True
        )
        t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not mailbox.messages():
            time.sleep(0.5)
        stop.set()
        t.join(timeout=30)
        assert not t.is_alive(), "daemon did not stop"
        assert mailbox.messages(), "the daemon sent no alert within 60 s"
    finally:
        world.stop()
        mailbox.stop()


def test_sentinel_demo_for_exits_zero_leaves_mail_and_serves_the_console(tmp_path):
    import re

    import httpx

    from tests.web.conftest import csrf_of

    sentinel = Path(sys.executable).parent / "sentinel"
    demo = subprocess.Popen(
        [str(sentinel), "demo", "--for", "30", "--speed", "2", "--dir", str(tmp_path / "var")]
        + ["--console-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        banner = ""
        while "演示账号" not in banner:
            line = demo.stdout.readline()
            assert line, "the demo ended before its banner: " + demo.stderr.read()[-2000:]
            banner += line
        url = re.search(r"网页控制台：(http://127\.0\.0\.1:\d+)/", banner).group(1)
        password = re.search(r"密码均为 (\S+)", banner).group(1)
        with httpx.Client(base_url=url, timeout=20, follow_redirects=True) as web:
            page = web.get("/login")
            r = web.post(
                "/login",
                data={"username": "赵敏", "password": password, "csrf": csrf_of(page.text)},
            )
            assert r.status_code == 200 and "事件工单" in r.text and "赵敏" in r.text
        _, err = demo.communicate(timeout=180)
    finally:
        demo.kill()
        demo.wait()
    assert demo.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert list((tmp_path / "var" / "mail").glob("*.eml"))
    r = subprocess.run(
        [
            str(sentinel),
            "--config",
            str(tmp_path / "var" / "demo" / "sentinel.yaml"),
            "incidents",
            "--json",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.strip() not in ("", "[]")


def test_every_scenario_post_gets_the_handling_its_author_meant():
    """The demo's story strands come out as the plan's categories: inquiry, hype,
    illegal (the rumour inciting a gathering), constructive; neutral news is mentioned
    without an alert; noise and the similarly named school are not mentioned."""
    from alerting.matcher import load_matcher
    from demo.scenario import default_scenario

    matcher = load_matcher(config_mod.Config().watchlist_files())
    wrong = []
    for p in default_scenario().posts:
        r = matcher.match(p.body, title=p.title)
        if p.kind == "noise":
            ok = not r.mentioned
        elif p.kind == "neutral":
            ok = r.mentioned and not r.alert
        else:
            ok = r.alert and r.category == p.kind
        if not ok:
            wrong.append((p.key, p.kind, r.mentioned, r.alert, r.category))
    assert not wrong
