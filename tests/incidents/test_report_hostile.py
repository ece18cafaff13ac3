"""Issue 14 for 报案 with a URL (``sentinel report --url``): the reported page is fetched
by the hardened HTTP layer, so a hostile site costs at most
``incidents.reports.fetch_timeout`` and its failure is one line while the report itself
is kept; a page whose title carries markup and terminal escape sequences is stored
clean and shown as text by every listing. Real loopback server, real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from click.testing import CliRunner

import crawler.http  # noqa: F401 - imported here: its first import is not a site's cost
from sentinel.cli import cli
from tests.servers.http import LoopbackHTTPServer

ESCAPES = ("\x1b", "\x9b", "\x9d", "\x07", "\x08", "\x00")
TIMEOUT = 2


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        f"database: sqlite:///{tmp_path / 'db.sqlite'}\nvar_dir: {tmp_path / 'var'}\n"
        "timezone: Asia/Shanghai\nrecipients:\n  office: [yuqing@example.edu.cn]\n"
        # Loopback is where the test's sites are; a reporter's intranet URL is refused
        # otherwise (tests/incidents/test_reports.py).
        f"incidents:\n  reports:\n    allow_private: true\n    fetch_timeout: {TIMEOUT}\n",
        encoding="utf-8",
    )
    return str(p)


def run(cfg, *args):
    r = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--config", cfg, *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output, r.output
    return r


def bounded(t0: float, limit: float, what: str) -> float:
    took = time.monotonic() - t0
    print(f"\n{what}: stopped after {took:.2f} s (bound {limit:g} s)")
    assert took < limit, f"{what} took {took:.2f} s"
    return took


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/hostile/hang", "超时"),
        ("/hostile/never-ending", "超时"),
        ("/hostile/trickle-headers?every=0.5", "超时"),
        ("/hostile/trickle-body?every=0.5", "超时"),
        ("/hostile/drop", "连接中断"),
        ("/hostile/gzip-bomb", "内容过大"),
        ("/hostile/redirect-loop", "跳转"),
        ("/hostile/redirect-data", "跳转"),
        ("/hostile/redirect-bad", "跳转"),
    ],
)
def test_a_hostile_reported_page_costs_at_most_the_fetch_timeout(path, kind):
    from alerting.incidents.manual import fetch_page
    from sentinel.config import Config

    config = Config.model_validate(
        {
            "database": "sqlite:///:memory:",
            "incidents": {"reports": {"allow_private": True, "fetch_timeout": TIMEOUT}},
        }
    )
    if "bomb" in path:
        from tests.servers.http import _bomb

        _bomb("gzip")  # the server compresses its 100 MB once: not the client's time
    with LoopbackHTTPServer() as srv:
        t = time.monotonic()
        fr, error = fetch_page(srv.url(path), config)
        bounded(t, TIMEOUT + 0.5, f"reported URL {path.split('?')[0]}, fetch_timeout {TIMEOUT} s")
    assert fr is None and error.startswith(kind) and "\n" not in error, error


def test_report_of_a_trickling_page_ends_at_the_timeout_and_keeps_the_report(cfg):
    run(cfg, "user", "add", "赵敏", "--role", "office", "--email", "zhaomin@example.edu.cn")
    run(cfg, "match", "江西警察学院")  # the matcher's first load is not the site's cost
    with LoopbackHTTPServer() as srv:
        url = srv.url("/hostile/trickle-headers?every=0.5")
        t = time.monotonic()
        r = run(cfg, "report", "--url", url, "--note", "论坛有人发帖", "--by", "赵敏")
        bounded(
            t, TIMEOUT + 8, f"sentinel report --url (header trickle, fetch_timeout {TIMEOUT} s)"
        )
    assert r.exit_code == 0 and "已立案" in r.output
    [line] = [x for x in r.output.splitlines() if "网页未能保存快照" in x]
    assert "超时" in line and f"{TIMEOUT} 秒" in line and "报案已记录" in line
    d = json.loads(run(cfg, "incident", "show", "1", "--json").output)
    assert d["reports"][0]["by"] == "赵敏" and d["evidence"] == []


def test_a_reported_page_with_markup_and_escape_sequences_is_stored_clean_and_shown_as_text(
    cfg, tmp_path
):
    run(cfg, "user", "add", "赵敏", "--role", "office", "--email", "zhaomin@example.edu.cn")
    with LoopbackHTTPServer() as srv:
        url = srv.url("/hostile/terminal-page")
        r = run(cfg, "report", "--url", url, "--note", "网上有帖\x1b]0;x\x07子", "--by", "赵敏")
    assert r.exit_code == 0 and "网页快照已保存为证据" in r.output
    with sqlite3.connect(tmp_path / "db.sqlite") as c:
        title, text, author = c.execute("SELECT title, text, author FROM posts").fetchone()
        [inc_title] = c.execute("SELECT title FROM incidents").fetchone()
        notes = [n for (n,) in c.execute("SELECT note FROM incident_events") if n]
    for value in (title, text, author or "", inc_title, *notes):
        assert not any(e in value for e in ESCAPES), repr(value)
    assert "江西警察学院食堂红字" in title and "学校至今没有回应" in text
    outputs = {
        args: run(cfg, *args).output
        for args in (
            ("incidents",),
            ("incident", "show", "1"),
            ("posts",),
            ("stats", "--since", "1d"),
        )
    }
    for args, out in outputs.items():
        assert not any(e in out for e in ESCAPES), (args, repr(out))
    assert "江西警察学院食堂红字" in outputs[("incident", "show", "1")]
    assert "江西警察学院食堂红字" in outputs[("incidents",)]
