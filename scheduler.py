"""The daemon: builds the jobs from ``sentinel.yaml`` and runs them. No business logic
here; every job calls into sentinel.pipeline.

Jobs: one per source at its interval (with jitter), matching and the outbox right after
each collection, an outbox retry job, a once-a-minute incident tick (deadlines,
escalations, tracking), the watchlist reload check, the digests by cron, and the
heartbeat of the one-daemon-per-database lock. Feeds, crawls, housekeeping and the
heartbeat run in separate thread pools, so a hostile source delays only itself.

Run it with ``sentinel run`` or ``python scheduler.py [--config PATH]``.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

log = logging.getLogger("sentinel.daemon")

# APScheduler's defaults drop a run that starts more than a second late; a slow feed
# or a busy machine must delay a run, never silently skip it.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
MAX_FEED_THREADS = 32  # feeds polled at once (threads mostly waiting on the network)


def build_scheduler(pipeline, config):
    """A BackgroundScheduler with every job of the daemon (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    sources = pipeline.sources()
    feeds = [c for c in sources if not _crawls(c)]
    # Separate pools, so no kind of job waits for another's threads: each feed has its
    # own (a slow or hostile one holds only itself, for at most its timeout), crawls run
    # two at a time (each is a Scrapy child process), and matching, mail, deadlines and
    # the heartbeat never wait for a source.
    sched = BackgroundScheduler(
        timezone=config.tz,
        executors={
            "default": ThreadPoolExecutor(max_workers=4),
            "fetch": ThreadPoolExecutor(max_workers=max(1, min(len(feeds), MAX_FEED_THREADS))),
            "crawl": ThreadPoolExecutor(max_workers=2),
            "heartbeat": ThreadPoolExecutor(max_workers=1),
        },
        job_defaults=JOB_DEFAULTS,
    )
    now = datetime.now(UTC)

    def collect_job(cfg):
        pipeline.collect(cfg)
        pipeline.process_pending()
        pipeline.drain()

    for cfg in sources:
        sched.add_job(
            collect_job,
            IntervalTrigger(seconds=cfg.interval, jitter=cfg.interval * cfg.jitter),
            args=[cfg],
            id=f"source:{cfg.name}",
            name=f"collect {cfg.name}",
            executor="crawl" if _crawls(cfg) else "fetch",
            next_run_time=now,
            misfire_grace_time=max(60, int(cfg.interval)),
        )
    sched.add_job(pipeline.process_pending, IntervalTrigger(seconds=30), id="process", name="match backlog")
    sched.add_job(pipeline.drain, IntervalTrigger(seconds=15), id="outbox", name="send outbox")
    sched.add_job(pipeline.tick, IntervalTrigger(seconds=60), id="tick", name="deadlines and escalations")
    sched.add_job(_reload_watchlists(pipeline), IntervalTrigger(seconds=5), id="watchlists", name="watchlists")
    for d in config.digests:
        sched.add_job(
            _digest_job(pipeline, d.name),
            CronTrigger.from_crontab(d.cron, timezone=config.tz),
            id=f"digest:{d.name}",
            name=f"digest {d.name}",
            misfire_grace_time=3600,
        )
    return sched


def _crawls(cfg) -> bool:
    """A source collected by the Scrapy spider (a child process), not a single fetch."""
    return cfg.type == "site" or getattr(cfg, "format", None) == "site"


def _reload_watchlists(pipeline):
    last = {"version": None, "error": None}

    def job():
        matcher = pipeline.matchers.get()
        error = pipeline.matchers.error
        if error != last["error"]:
            if error:
                log.error("监测词表有误，继续使用上一版有效词表：%s", error)
            else:
                log.info("监测词表已恢复正常")
            last["error"] = error
        if matcher.version != last["version"]:
            if last["version"] is not None:
                log.info("监测词表已重新加载（版本 %s）", matcher.version[:12])
            last["version"] = matcher.version

    return job


def _digest_job(pipeline, name):
    def job():
        from alerting.digest import run_digest

        run_digest(pipeline.db, pipeline.config, name, pipeline.now())
        pipeline.drain()

    return job


def run_daemon(config, *, stop: threading.Event | None = None, for_seconds: float | None = None,
               on_started=None) -> None:
    """Run until ``stop`` is set, SIGINT/SIGTERM arrives, or ``for_seconds`` pass."""
    from sentinel.pipeline import Pipeline
    from storage import lock
    from storage.db import Database

    db = Database(config.database_url)
    holder = lock.holder_name()
    lock.acquire(db, holder, datetime.now(UTC))
    stop = stop or threading.Event()
    sched = None
    try:
        pipeline = Pipeline(config, db)
        sched = build_scheduler(pipeline, config)

        def beat():
            if not lock.heartbeat(db, holder, datetime.now(UTC)):
                log.error("守护进程锁已被其他进程接管，本进程停止。")
                stop.set()

        sched.add_job(beat, "interval", seconds=20, id="heartbeat", name="heartbeat", executor="heartbeat")
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        sched.start()
        log.info("守护进程已启动：%d 个来源，数据库 %s", len(pipeline.sources()), db.safe_url)
        if on_started:
            on_started(pipeline)
        stop.wait(timeout=for_seconds)
    finally:
        if sched is not None and sched.running:
            sched.shutdown(wait=True)
        lock.release(db, holder)
        db.dispose()
        log.info("守护进程已停止")


def main(argv: list[str] | None = None) -> None:
    """``python scheduler.py [--config PATH] [--verbose]``: the same as ``sentinel run``.

    It loads the config itself (the scheduler sits below the CLI and does not call it);
    a mistake in a file is one line on stderr, as from ``sentinel run``."""
    import argparse
    import os
    import sys

    from core import logs
    from core.errors import PositionedError, SentinelError
    from sentinel import config as config_mod

    parser = argparse.ArgumentParser(prog="scheduler.py", description="舆情监测守护进程（与 sentinel run 相同）")
    parser.add_argument("--config", default=os.environ.get("SENTINEL_CONFIG"), metavar="PATH",
                        help="配置文件（默认 ./sentinel.yaml 或 $SENTINEL_CONFIG）")
    parser.add_argument("--verbose", action="store_true", help="记录更详细的日志")
    args = parser.parse_args(argv)
    try:
        cfg = config_mod.load(args.config)
        path = logs.setup(cfg.var_path, verbose=args.verbose)
        print(f"日志写入 {path}；按 Ctrl-C 停止。", file=sys.stderr)
        run_daemon(cfg)
    except SentinelError as e:
        print(str(e) if isinstance(e, PositionedError) else f"错误：{e}", file=sys.stderr)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
