"""Logging for the daemon and the demo: readable lines on stderr, and a file under var/;
or, with ``log_format: json``, one JSON object per line in both (for a log collector).
Times are in the office's zone (``timezone`` in sentinel.yaml) either way."""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import datetime
from pathlib import Path

from core.times import office_zone


class OfficeTimeFormatter(logging.Formatter):
    """Log lines stamped in the office's zone (Beijing time by default), not the
    server's local time or UTC, so a log line and a mail about it agree."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        t = datetime.fromtimestamp(record.created, office_zone())
        return t.strftime(datefmt or "%Y-%m-%d %H:%M:%S")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (ISO 8601 with the office zone's offset),
    ``level``, ``logger``, ``message``, ``thread``, and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, office_zone()).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup(var_dir: Path, *, verbose: bool = False, console: bool = True, fmt: str = "text") -> Path:
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir = var_dir / "log"
    log_dir.mkdir(exist_ok=True)
    path = log_dir / "sentinel.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fh = logging.handlers.RotatingFileHandler(
        path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    as_json = fmt == "json"
    fh.setFormatter(
        JsonFormatter()
        if as_json
        else OfficeTimeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(fh)
    if console and as_json:
        ch = logging.StreamHandler()
        ch.setFormatter(JsonFormatter())
        root.addHandler(ch)
    elif console:
        from rich.logging import RichHandler
        from rich.text import Text

        ch = RichHandler(
            show_path=False,
            rich_tracebacks=False,
            markup=False,
            log_time_format=lambda dt: Text(dt.astimezone(office_zone()).strftime("%H:%M:%S")),
        )
        ch.setLevel(logging.DEBUG if verbose else logging.INFO)
        root.addHandler(ch)
    for noisy in (
        "apscheduler",
        "httpx",
        "httpcore",
        "scrapy",
        "jieba",
        "alembic",
        "mail.log",
        "filelock",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
