"""A consistent copy of the database while the daemon runs (``sentinel backup``).

SQLite: the online backup API (``sqlite3.Connection.backup``), which copies a consistent
snapshot page by page while writers go on, then an integrity check of the copy.
PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``), the password
handed over in the environment, never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from core.errors import SentinelError
from storage.db import Database


class BackupError(SentinelError):
    """The copy could not be made (or checked)."""


@dataclass
class Backup:
    """What was written."""

    path: Path
    dialect: str
    bytes: int
    seconds: float
    method: str  # "sqlite-online-backup" | "pg_dump"

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "dialect": self.dialect,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "method": self.method,
        }


def backup(db: Database, out: Path, *, overwrite: bool = False) -> Backup:
    """Copy ``db`` to ``out`` (a new file, unless ``overwrite``)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise BackupError(f"文件 {out} 已存在；换一个文件名，或加 --force 覆盖")
    if not out.parent.is_dir():
        raise BackupError(f"文件夹 {out.parent} 不存在")
    started = time.monotonic()
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        if db.dialect == "sqlite":
            method = _sqlite(db, tmp)
        elif db.dialect == "postgresql":
            method = _pg_dump(db, tmp)
        else:
            raise BackupError(f"不支持备份 {db.dialect} 数据库")
        os.replace(tmp, out)  # a half-written copy never carries the name asked for
    finally:
        tmp.unlink(missing_ok=True)
    return Backup(out, db.dialect, out.stat().st_size, time.monotonic() - started, method)


def _sqlite(db: Database, out: Path) -> str:
    source_path = make_url(db.url).database
    if not source_path or source_path == ":memory:":
        raise BackupError("内存数据库无法备份")
    src = sqlite3.connect(source_path, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst, pages=1024, sleep=0.005)  # in steps: writers are never held for long
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as e:
        raise BackupError(f"SQLite 备份失败：{e}") from None
    finally:
        dst.close()
        src.close()
    if check != "ok":
        raise BackupError(f"备份文件完整性检查未通过：{check}")
    return "sqlite-online-backup"


def pg_environment(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for libpq's tools (``pg_dump``, ``pg_restore``, ``psql``) from
    an SQLAlchemy URL: arguments without the password, which goes in PGPASSWORD."""
    u = make_url(url)
    args = []
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args + ["--dbname", u.database or ""], env


def _pg_dump(db: Database, out: Path) -> str:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError(
            "找不到 pg_dump：请安装 PostgreSQL 客户端（Debian：apt install postgresql-client）"
        )
    args, env = pg_environment(db.url)
    cmd = [tool, "--format=custom", "--no-owner", "--no-privileges", "--file", str(out), *args]
    try:
        r = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        raise BackupError("pg_dump 超过 1 小时未完成") from None
    if r.returncode != 0:
        reason = (r.stderr.strip().splitlines() or ["未知错误"])[-1]
        raise BackupError(f"pg_dump 失败：{reason}")
    return "pg_dump"
