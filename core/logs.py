"""Logging for the daemon and the demo: readable lines on stderr, and a file under var/."""

from __future__ import annotations

import logging
import logging.handlers
from datetime import datetime
from pathlib import Path

from core.times import office_zone


class OfficeTimeFormatter(logging.Formatter):
    """Log lines stamped in the office's zone (Beijing time by default), not the
    server's local time or UTC, so a log line and a mail about it agree."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        t = datetime.fromtimestamp(record.created, office_zone())
        return t.strftime(datefmt or "%Y-%m-%d %H:%M:%S")


def setup(var_dir: Path, *, verbose: bool = False, console: bool = True) -> Path:
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir = var_dir / "log"
    log_dir.mkdir(exist_ok=True)
    path = log_dir / "sentinel.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fh = logging.handlers.RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
    fh.setFormatter(OfficeTimeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(fh)
    if console:
        from rich.logging import RichHandler
        from rich.text import Text

        ch = RichHandler(
            show_path=False, rich_tracebacks=False, markup=False,
            log_time_format=lambda dt: Text(dt.astimezone(office_zone()).strftime("%H:%M:%S")),
        )
        ch.setLevel(logging.DEBUG if verbose else logging.INFO)
        root.addHandler(ch)
    for noisy in ("apscheduler", "httpx", "httpcore", "scrapy", "jieba", "alembic", "mail.log", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
