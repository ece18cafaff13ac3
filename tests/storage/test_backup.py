"""``sentinel backup --out FILE``: a consistent copy while the database is written to —
SQLite's online backup, pg_dump for PostgreSQL — that restores to the same posts."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import uuid
from datetime import UTC, datetime

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from crawler.base import RawPost
from sentinel.cli import cli
from storage.backup import pg_environment
from storage.db import Database
from storage.models import Post, Source
from storage.posts import store_posts


def _config(tmp_path, url) -> str:
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        yaml.safe_dump({"database": url, "var_dir": str(tmp_path / "var")}), encoding="utf-8"
    )
    return str(p)


def _add(db, first: int, n: int) -> None:
    with db.session() as s:
        src = s.scalar(select(Source)) or Source(name="news", type="feed", state={})
        s.add(src)
        s.flush()
        store_posts(
            s,
            src,
            [
                RawPost(url=f"http://n.example.edu.cn/{i}", title=f"帖 {i}", text="正文" * 50)
                for i in range(first, first + n)
            ],
            now=datetime.now(UTC),
        )


def _posts(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Post.id)))


def test_a_sqlite_backup_taken_while_posts_are_written_is_consistent(tmp_path, sqlite_url):
    db = Database(sqlite_url)
    _add(db, 0, 2000)
    stop = threading.Event()

    def writer():
        i = 2000
        while not stop.is_set():
            _add(db, i, 50)
            i += 50

    t = threading.Thread(target=writer)
    t.start()
    try:
        r = CliRunner().invoke(
            cli,
            [
                "--config",
                _config(tmp_path, sqlite_url),
                "backup",
                "--out",
                str(tmp_path / "copy.db"),
                "--json",
            ],
        )
    finally:
        stop.set()
        t.join()
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["method"] == "sqlite-online-backup"
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = copy.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert 2000 <= n <= _posts(db) and n % 50 == 0  # whole transactions only
    copy.close()
    restored = Database(f"sqlite:///{tmp_path / 'copy.db'}")  # opens and migrates as a database
    assert _posts(restored) == n
    restored.dispose()
    db.dispose()
    r = CliRunner().invoke(
        cli,
        ["--config", _config(tmp_path, sqlite_url), "backup", "--out", str(tmp_path / "copy.db")],
    )
    assert r.exit_code == 1 and "已存在" in r.output  # never overwritten by accident


@pytest.mark.postgres
def test_a_postgresql_backup_is_a_pg_dump_that_pg_restore_brings_back(tmp_path, pg_url, pg_server):
    import psycopg

    db = Database(pg_url)
    _add(db, 0, 300)
    out = tmp_path / "sentinel.dump"
    r = CliRunner().invoke(
        cli, ["--config", _config(tmp_path, pg_url), "backup", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "已备份数据库" in r.output and out.read_bytes().startswith(b"PGDMP")
    db.dispose()
    name = f"sentinel_r_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        target = pg_server.rsplit("/", 1)[0] + "/" + name
        args, env = pg_environment(target)
        subprocess.run(
            ["pg_restore", "--no-owner", *args, str(out)], env=env, check=True, capture_output=True
        )
        restored = Database(target)
        assert _posts(restored) == 300
        restored.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
