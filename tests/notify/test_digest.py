"""Digests: grouped by incident and category, coverage of sources, idempotent per period."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import yaml
from click.testing import CliRunner

from alerting.digest import build_digest, period_for, run_digest
from alerting.notify.outbox import Outbox
from sentinel.cli import cli
from storage.models import Source
from tests.notify.conftest import make_config, parse


def _cfg(port, **extra):
    return make_config(
        port,
        sources=[
            {"name": "college-bar", "type": "feed", "url": "https://forum.example.com/rss"},
            {"name": "campus-news", "type": "feed", "url": "https://news.example.edu.cn/rss"},
            {"name": "broken-site", "type": "feed", "url": "https://broken.example.com/rss"},
        ],
        digests=[{"name": "daily", "cron": "0 8 * * *", "to": ["office"]}],
        **extra,
    )


def _fill(db, world, clock):
    now = clock.now()
    with db.session() as s:
        a = world.post(
            s, text="江西警察学院食堂有虫子，投诉电话13812345678，身份证360102199001011234"
        )
        inc = world.incident(s, a)
        b = world.post(s, title="江西警察学院 食堂 转发", category="hype")
        world.join(s, inc, b)
        world.post(
            s,
            source="campus-news",
            title="江西警察学院 收费质疑",
            category="inquiry",
            text="江西警察学院 收费 质疑",
            hits=[{"term": "收费", "start": 7, "end": 9, "topic": "fees", "field": "text"}],
        )
        for name, ok in (("college-bar", True), ("campus-news", True), ("broken-site", False)):
            src = world.source(s, name)
            src.last_run_at = now
            if ok:
                src.last_success_at = now
                src.last_new_at = now
            else:
                src.last_error_at, src.last_error_kind, src.last_error = (
                    now,
                    "timeout",
                    "读取超时（30 秒）",
                )
                src.consecutive_failures = 4
        s.add(Source(name="campus-old", type="feed", state={}))  # no longer configured


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.marks = 0

    def handle_starttag(self, tag, attrs):
        self.marks += tag == "mark"


def test_digest_groups_by_incident_and_shows_coverage(db, clock, world):
    cfg = _cfg(None)
    _fill(db, world, clock)
    d = build_digest(db, cfg, clock.now() - timedelta(hours=24), clock.now() + timedelta(seconds=1))
    c = d.counts
    print(f"\ndigest: {c}; subject {d.subject}")
    assert c["alerts"] == 3 and c["incidents"] == 1
    assert c["sources_failed"] == 1
    assert "broken-site" in d.html and "读取超时" in d.html and "campus-old" not in d.html
    assert "本时段新增 2 条" in d.html and "未归入事件的预警" in d.html
    t = Tags()
    t.feed(d.html)
    assert t.marks >= 3
    # Personal data masked by default in digests.
    assert "13812345678" not in d.html and "138****5678" in d.html
    assert "360102199001011234" not in d.text and "360102********1234" in d.text


def test_run_digest_is_idempotent_per_period(db, clock, world, smtp_server):
    cfg = _cfg(smtp_server.port)
    _fill(db, world, clock)
    # clock: 2026-11-23 01:00 UTC = 09:00 Shanghai; the daily digest at 08:00 covers the day before.
    since, until = period_for("0 8 * * *", clock.now(), cfg.tz)
    assert until.astimezone(cfg.tz).hour == 8 and until - since == timedelta(days=1)
    first = run_digest(db, cfg, "daily", clock.now())
    again = run_digest(db, cfg, "daily", clock.now() + timedelta(minutes=20))  # a late second run
    assert first["queued"] and not again["queued"] and first["key"] == again["key"]
    Outbox(db, cfg, now=clock.now).drain()
    assert len(smtp_server.mailbox.received) == 1
    m = parse(smtp_server.mailbox.received[0]["data"])
    assert str(m["Subject"]).startswith("【舆情摘要】")
    clock.advance(days=1)
    assert run_digest(db, cfg, "daily", clock.now())["queued"]


def test_cli_digest_writes_html_and_sends(tmp_path, smtp_server):
    path = tmp_path / "sentinel.yaml"
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    path.write_text(
        yaml.safe_dump(
            {
                "database": db_url,
                "smtp": {
                    "host": "127.0.0.1",
                    "port": smtp_server.port,
                    "from": "舆情监测 <yuqing@example.edu.cn>",
                },
                "recipients": {"office": ["yuqing@example.edu.cn"]},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "digest.html"
    r = CliRunner().invoke(
        cli,
        ["--config", str(path), "digest", "--since", "24h", "--out", str(out), "--send", "--json"],
    )
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(smtp_server.mailbox.received) == 1
    # The mailed HTML is the same as the file.
    m = parse(smtp_server.mailbox.received[0]["data"])
    assert m.get_body(("html",)).get_content().replace("\r\n", "\n") == out.read_text(
        encoding="utf-8"
    )
    r = CliRunner().invoke(
        cli,
        [
            "--config",
            str(path),
            "silence",
            "add",
            "--source",
            "college-bar",
            "--for",
            "2h",
            "--by",
            "赵敏",
        ],
    )
    assert r.exit_code == 1 and "没有名为 '赵敏' 的用户" in r.output  # silences are the office's
    assert (
        CliRunner()
        .invoke(cli, ["--config", str(path), "user", "add", "赵敏", "--role", "office"])
        .exit_code
        == 0
    )
    r = CliRunner().invoke(
        cli,
        [
            "--config",
            str(path),
            "silence",
            "add",
            "--source",
            "college-bar",
            "--for",
            "2h",
            "--by",
            "赵敏",
        ],
    )
    assert r.exit_code == 0 and "已添加静默规则 #1" in r.output, r.output
    r = CliRunner().invoke(cli, ["--config", str(path), "silence", "list"])
    assert "college-bar" in r.output
    r = CliRunner().invoke(cli, ["--config", str(path), "silence", "expire", "1", "--by", "赵敏"])
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["--config", str(path), "silence", "list"])
    assert "没有生效中的静默规则" in r.output
    r = CliRunner().invoke(
        cli, ["--config", str(path), "silence", "add", "--for", "2h", "--by", "赵敏"]
    )
    assert r.exit_code == 1 and "错误" in r.output
    r = CliRunner().invoke(cli, ["--config", str(path), "outbox"])
    assert r.exit_code == 0 and "已发送" in r.output, r.output
