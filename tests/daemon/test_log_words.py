"""The daemon's log as the office reads it: APScheduler's own warnings in Chinese, naming
the job as the office does, and no UTC time (its job descriptions carry one)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core import logs
from tests.office.documents import problems


def test_the_schedulers_warnings_read_in_chinese_and_office_time(tmp_path):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = logs.setup(tmp_path, console=False)
    try:
        job = Job(
            BackgroundScheduler(timezone=UTC),
            id="source:campus-forum",
            func=print,
            trigger=IntervalTrigger(seconds=5, timezone=UTC),
            executor="crawls",
            args=(),
            kwargs={},
            name="采集来源 campus-forum",
            misfire_grace_time=60,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime(2026, 12, 1, 16, 43, 38, tzinfo=UTC),
        )
        assert "UTC" in str(job)  # what APScheduler would have written
        scheduler = logging.getLogger("apscheduler.scheduler")
        executor = logging.getLogger("apscheduler.executors.crawls")
        scheduler.warning(
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
            job,
            1,
        )
        executor.warning('Run time of job "%s" was missed by %s', job, timedelta(seconds=75))
        scheduler.warning("Something new about %s", job)
    finally:
        for h in list(root.handlers):  # the test's own handlers back, as they were
            root.removeHandler(h)
            h.close()
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)
    text = path.read_text(encoding="utf-8")
    assert "任务“采集来源 campus-forum”上一次尚未结束，本次跳过" in text
    assert "任务“采集来源 campus-forum”错过了计划运行时间（晚了 1 分 15 秒），本次跳过" in text
    assert "Something new about 采集来源 campus-forum" in text  # unknown words kept, no time
    assert "UTC" not in text and "16:43" not in text and "maximum number" not in text
    for line in text.splitlines():
        assert problems(line.split(" ", 3)[-1]) == [], line
