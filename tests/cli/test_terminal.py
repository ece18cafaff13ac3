"""Crawled text on the terminal: Rich markup in a title is shown as text (it crashed
``posts``, ``poll`` and ``status``), and escape sequences (OSC, CSI, C1) and control
characters never reach the terminal — through the real CLI, a real SQLite database and
the hostile loopback server."""

from __future__ import annotations

import json
import time

import yaml
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from sentinel.cli import cli
from storage.db import Database
from storage.models import Post
from tests.servers.http import LoopbackHTTPServer

ESCAPES = ("\x1b", "\x9b", "\x9d", "\x07", "\x08", "\x00", "\u202e", "\u202c", "\u2067", "\u2069")


def _config(tmp_path, sources) -> str:
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "var_dir": str(tmp_path / "var"),
                "sources": sources,
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return str(p)


def _run(path, *args):
    r = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--config", path, *args])  # no wrapping
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    return r


def test_markup_and_escape_sequences_in_crawled_titles_never_reach_the_terminal(tmp_path):
    with LoopbackHTTPServer() as srv:
        path = _config(
            tmp_path,
            [
                {
                    "name": "hostile[/x]",
                    "type": "feed",
                    "url": srv.url("/hostile/terminal"),
                    "delay": 0,
                    "obey_robots": False,
                }
            ],
        )
        t = time.monotonic()
        outputs = [
            _run(path, "poll").output,
            _run(path, "posts").output,
            _run(path, "status").output,
        ]
        assert time.monotonic() - t < 30
    posts = outputs[1]
    assert "[/x]" in posts and "[bold" in posts  # markup shown as the text it is
    for out in outputs:
        assert not any(e in out for e in ESCAPES), repr(out)
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with db.session() as s:
        stored = [(p.title, p.text, p.author or "") for p in s.scalars(select(Post))]
    db.dispose()
    assert len(stored) == 4
    assert not any(e in field for row in stored for field in row for e in ESCAPES)
    assert {"江西警察学院食堂红字", "通知.exe 附件反向"} <= {t for t, _, _ in stored}
    assert all("\n" in body for _, body, _ in stored)  # line breaks kept in bodies


def test_titles_stored_before_the_fix_are_still_shown_safely(tmp_path):
    with LoopbackHTTPServer() as srv:
        path = _config(
            tmp_path,
            [
                {
                    "name": "t",
                    "type": "feed",
                    "url": srv.url("/hostile/terminal"),
                    "delay": 0,
                    "obey_robots": False,
                }
            ],
        )
        _run(path, "poll")
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as c:  # as an older version stored it
        c.execute(
            text("UPDATE posts SET title = :t"),
            {"t": "[/x] \x1b]0;pwned\x07旧标题\x1b[2J\x9b31m\u202e反向"},
        )
    engine.dispose()
    out = _run(path, "posts").output
    assert "旧标题" in out and "[/x]" in out and not any(e in out for e in ESCAPES)
    data = json.loads(_run(path, "posts", "--json").output)
    assert data[0]["title"].startswith("[/x]")  # --json gives the stored value, JSON-escaped


def test_a_source_error_with_markup_is_shown_as_text(tmp_path):
    with LoopbackHTTPServer() as srv:
        path = _config(
            tmp_path,
            [
                {
                    "name": "gone",
                    "type": "feed",
                    "url": srv.url("/[bold]gone[/x]"),
                    "delay": 0,
                    "obey_robots": False,
                }
            ],
        )
        poll = _run(path, "poll")
        status = _run(path, "status")
    assert poll.exit_code == 1 and "[/x]" in poll.output
    assert "[/x]" in status.output and "网页不存在" in status.output
