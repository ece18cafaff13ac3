"""Daemon tests: a config file written for the test, daemons run in threads or as real
processes (``python scheduler.py``) that the test starts, signals and waits for itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.servers.http import LoopbackHTTPServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with LoopbackHTTPServer() as srv:
        yield srv


def write_config(tmp_path: Path, sources: list[dict], **extra) -> Path:
    """A sentinel.yaml in ``tmp_path`` with a SQLite database there and these sources."""
    doc = {
        "database": f"sqlite:///{tmp_path / 'sentinel.db'}",
        "var_dir": str(tmp_path / "var"),
        "sources": sources,
        **extra,
    }
    path = tmp_path / "sentinel.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def hanging(server: LoopbackHTTPServer, n: int, kind: str = "feed") -> list[dict]:
    """``n`` sources whose server never answers (each run a slow job, up to a minute)."""
    url = server.url("/hostile/hang")
    out = []
    for i in range(n):
        src = {"name": f"slow-{kind}-{i}", "type": kind, "interval": "1h", "timeout": "60s"}
        src.update({"url": url} if kind == "feed" else {"urls": [url], "crawl_timeout": "2m"})
        out.append(src)
    return out


def start_daemon(config: Path, log: Path) -> subprocess.Popen:
    """``python scheduler.py --config CONFIG``, its stderr in ``log``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scheduler.py"), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
        env=env,
        cwd=config.parent,
    )


def wait_for(predicate, timeout: float, every: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()
