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


# APScheduler's own warnings, in the office's words. Its messages name a job by the job's
# str(), which carries the next run time in UTC: only the job's name is kept.
_SCHEDULER_WORDS = {
    "Execution of job": "任务“{job}”上一次尚未结束，本次跳过",
    "Run time of job": "任务“{job}”错过了计划运行时间（晚了 {late}），本次跳过",
    'Job "%s" raised an exception': "任务“{job}”运行出错",
    "Error submitting job": "任务“{job}”无法开始运行",
    "Error running job": "任务“{job}”运行出错",
    "Executor lookup": "任务“{job}”找不到执行器，已移除",
    "Error getting due jobs": "调度器读取任务出错：{error}",
    "Process pool is broken": "任务进程池已损坏，已换用新的进程池",
}


def _is_job(a) -> bool:
    return all(hasattr(a, x) for x in ("trigger", "name", "id", "executor"))


class SchedulerWords(logging.Filter):
    """Rewrites APScheduler's warnings and errors into Chinese with the job's name (no
    UTC time); anything else it says keeps its words but loses the job's UTC time."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("apscheduler") or not isinstance(record.msg, str):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        jobs = [a.name for a in args if _is_job(a)]
        for start, words in _SCHEDULER_WORDS.items():
            if record.msg.startswith(start):
                late = next((a for a in args if hasattr(a, "total_seconds")), None)
                error = args[-1] if args else ""
                job = jobs[0] if jobs else next((str(a) for a in args), "")
                record.msg = words.format(
                    job=job, late=_seconds(late) if late is not None else "", error=error
                )
                record.args = ()
                return True
        if jobs:
            record.args = tuple(a.name if _is_job(a) else a for a in args)
        return True


def _seconds(delta) -> str:
    total = int(delta.total_seconds())
    return f"{total // 60} 分 {total % 60} 秒" if total >= 60 else f"{total} 秒"


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
    fh.addFilter(SchedulerWords())
    root.addHandler(fh)
    if console and as_json:
        ch = logging.StreamHandler()
        ch.setFormatter(JsonFormatter())
        ch.addFilter(SchedulerWords())
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
        ch.addFilter(SchedulerWords())
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
