"""The daemon: builds the jobs from ``sentinel.yaml`` and runs them. No business logic
here; every job calls into sentinel.pipeline.

Jobs: one per source at its interval (with jitter; a failing one backs off), its posts
matched as they are stored and the outbox drained right after a run that stored or
failed; the backlog's matching every 30 s, an outbox retry job, a once-a-minute incident
tick (deadlines, escalations, tracking), the watchlist and sentinel.yaml reload checks
and the digests by cron. The first runs are spread over the start. They run in
three pools, so one kind of work cannot hold up another: quick feed polls, site crawls
(each a child process) and housekeeping. The heartbeat of the one-daemon-per-database
lock is not a job at all: it has its own thread (``storage.lock.Heartbeat``).

Run it with ``sentinel run`` or ``python scheduler.py [--config PATH]``.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger("sentinel.daemon")

# APScheduler's defaults drop a run that starts more than a second late; a slow feed
# or a busy machine must delay a run, never silently skip it.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
FEED_WORKERS = 8  # polls are mostly waiting on the network
CRAWL_WORKERS = 2  # each crawl is a child process using a core of its own
QUEUED_CRAWLS = 8  # crawls handed to the crawl workers at once (crawl_queue)
HOUSEKEEPING_WORKERS = 2
STOP_GRACE = 7.0  # seconds a stop waits for running jobs (SIGTERM ends within 10 s)
START_SPREAD = 0.05  # seconds of spread per source for the first runs: 1,000 sources over 50 s


class Jobs:
    """Every job runs through ``wrap``: the running ones are counted, so a stop can wait
    for them, and each run's duration goes to the observers (metrics)."""

    def __init__(self) -> None:
        self.running = 0
        self._cond = threading.Condition()
        self.observers: list[Callable[[str, float], None]] = []

    def wrap(self, name: str, fn: Callable) -> Callable:
        def run(*args, **kwargs):
            with self._cond:
                self.running += 1
            started = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._cond:
                    self.running -= 1
                    self._cond.notify_all()
                for observe in self.observers:
                    observe(name, time.monotonic() - started)

        run.__name__ = getattr(fn, "__name__", name)
        return run

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs (True) or ``timeout`` passes (False)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self.running:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


def build_scheduler(pipeline, config, jobs: Jobs | None = None):
    """A BackgroundScheduler with every job of the daemon (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    jobs = jobs or Jobs()
    sched = BackgroundScheduler(
        timezone=config.tz,
        executors={
            "default": ThreadPoolExecutor(max_workers=HOUSEKEEPING_WORKERS),
            "feeds": ThreadPoolExecutor(max_workers=FEED_WORKERS),
            # With a crawl queue a crawl here is a wait for the crawl workers, not a child process.
            "crawls": ThreadPoolExecutor(
                max_workers=QUEUED_CRAWLS if config.crawl_queue else CRAWL_WORKERS
            ),
        },
        job_defaults=JOB_DEFAULTS,
    )
    now = datetime.now(UTC)
    waits = pipeline.next_attempts()  # a restart keeps honouring the backoff
    sources = pipeline.sources()
    # The first runs are spread (START_SPREAD a source, at most one interval), so a
    # thousand sources do not all fire at start; each keeps its phase afterwards.
    window = len(sources) * START_SPREAD
    for cfg in sources:
        first = now + timedelta(seconds=random.uniform(0, min(cfg.interval, window)))
        add_source(sched, pipeline, jobs, cfg, first=max(first, waits.get(cfg.name) or first))
    housekeeping = [
        ("process", pipeline.process_backlog, 30, "匹配待处理帖子"),
        ("outbox", pipeline.drain, 15, "发送通知"),
        ("tick", pipeline.tick, 60, "期限与逐级报告"),
        ("takedown", pipeline.recheck_takedowns, 300, "删帖复查"),
        ("early_warning", pipeline.early_warning, 300, "异常增长预警"),
        ("watchlists", _reload_watchlists(pipeline), 5, "监测词表"),
    ]
    for job_id, fn, every, name in housekeeping:
        sched.add_job(jobs.wrap(job_id, fn), IntervalTrigger(seconds=every), id=job_id, name=name)
    add_digests(sched, pipeline, jobs, config)
    return sched


def add_source(sched, pipeline, jobs: Jobs, cfg, first: datetime) -> None:
    """The job of one source (replacing the one of the same name), first run at ``first``."""
    from apscheduler.triggers.interval import IntervalTrigger

    def collect_job(cfg):
        run = pipeline.collect(cfg)  # what it stored is matched as it comes
        if run.next_attempt_at is not None:  # failing: not before its backoff has passed
            _reschedule(sched, f"source:{cfg.name}", run.next_attempt_at)
        if run.new or run.changed or run.error:  # alerts go out now; notices, health mails too
            pipeline.drain()

    sched.add_job(
        jobs.wrap("collect", collect_job),
        IntervalTrigger(seconds=cfg.interval, jitter=cfg.interval * cfg.jitter),
        args=[cfg],
        id=f"source:{cfg.name}",
        name=f"采集来源 {cfg.name}",
        executor="crawls" if cfg.crawls_pages else "feeds",
        next_run_time=first,
        misfire_grace_time=max(60, int(cfg.interval)),
        replace_existing=True,
    )


def add_digests(sched, pipeline, jobs: Jobs, config) -> None:
    """The digest jobs of ``config``, in place of any there were."""
    from apscheduler.triggers.cron import CronTrigger

    for job in sched.get_jobs():
        if job.id.startswith("digest:"):
            job.remove()
    for d in config.digests:
        sched.add_job(
            jobs.wrap("digest", _digest_job(pipeline, d.name)),
            CronTrigger.from_crontab(d.cron, timezone=config.tz),
            id=f"digest:{d.name}",
            name=f"摘要 {d.name}",
            misfire_grace_time=3600,
        )


def apply_config(sched, pipeline, jobs: Jobs, new) -> None:
    """A reloaded, valid configuration takes effect: a source added or changed is polled
    now, one removed or disabled is dropped, the others keep their schedule; digests,
    recipients, escalation and the rest are used from the next job on."""
    from apscheduler.jobstores.base import JobLookupError

    before = {c.name: c for c in pipeline.sources()}
    pipeline.reconfigure(new)
    after = {c.name: c for c in pipeline.sources()}
    now = datetime.now(UTC)
    for name in before.keys() - after.keys():
        try:
            sched.remove_job(f"source:{name}")
        except JobLookupError:
            pass
    changed = [
        c for n, c in after.items() if n not in before or before[n].model_dump() != c.model_dump()
    ]
    for cfg in changed:
        add_source(sched, pipeline, jobs, cfg, first=now)
    add_digests(sched, pipeline, jobs, new)
    log.info(
        "新配置已生效：新增或修改来源 %d 个，移除 %d 个",
        len(changed),
        len(before.keys() - after.keys()),
    )


def _reschedule(sched, job_id: str, at: datetime) -> None:
    from apscheduler.jobstores.base import JobLookupError

    try:
        sched.modify_job(job_id, next_run_time=at)
    except JobLookupError:  # removed meanwhile (the source left the config)
        pass


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


def run_daemon(
    config,
    *,
    stop: threading.Event | None = None,
    for_seconds: float | None = None,
    on_started=None,
    heartbeat_every: float | None = None,
) -> bool:
    """Run until ``stop`` is set, SIGINT/SIGTERM arrives, or ``for_seconds`` pass.

    A stop cancels the fetches and crawls under way and waits up to ``STOP_GRACE``
    seconds for the running jobs; returns False when some were still running then (the
    caller should end the process)."""
    from core.memory import limit_malloc_arenas
    from crawler.deadline import cancel
    from sentinel.pipeline import Pipeline
    from storage import lock
    from storage.db import Database

    limit_malloc_arenas()  # before the pools start their threads (core/memory.py)
    db = Database(config.database_url)
    holder = lock.holder_name(instance=True)
    lock.acquire(db, holder, datetime.now(UTC))
    stop = stop or threading.Event()
    sched = pipeline = beat = server = None
    jobs = Jobs()
    clean = True
    try:
        beat = lock.Heartbeat(
            db, holder, every=heartbeat_every or lock.BEAT_EVERY, on_lost=stop.set
        ).start()
        pipeline = Pipeline(config, db)
        sched = build_scheduler(pipeline, config, jobs)
        reload = _watch_config(sched, pipeline, jobs, holder)
        if config.metrics is not None:
            server = _serve_metrics(pipeline, config, jobs, lambda: _health(beat, sched, stop))
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            if (
                reload is not None
            ):  # `kill -HUP`: read sentinel.yaml now, even if it looks untouched
                signal.signal(
                    signal.SIGHUP,
                    lambda *_: threading.Thread(
                        target=reload, kwargs={"force": True}, name="sighup", daemon=True
                    ).start(),
                )
        sched.start()
        log.info("守护进程已启动：%d 个来源，数据库 %s", len(pipeline.sources()), db.safe_url)
        if on_started:
            on_started(pipeline)
        stop.wait(timeout=for_seconds)
    finally:
        log.info("守护进程正在停止……")
        if pipeline is not None:
            cancel(pipeline.cancel)  # fetches and crawls under way end now
        if sched is not None and sched.running:
            sched.shutdown(wait=False)
        clean = jobs.wait_idle(STOP_GRACE)
        if not clean:
            log.warning("仍有 %d 个任务未结束，不再等待", jobs.running)
        if server is not None:
            server.stop()
        if beat is not None:
            beat.stop()
        if beat is None or not beat.lost:
            lock.release(db, holder)
        db.dispose()
        log.info("守护进程已停止")
    return clean


CONFIG_CHECK_EVERY = 5  # seconds between two looks at sentinel.yaml


def _watch_config(sched, pipeline, jobs: Jobs, holder: str):
    """The job that reloads sentinel.yaml when it changes (None without a file). A broken
    edit is kept out: said in the log, on the lock row (``status``) and in one mail."""
    from apscheduler.triggers.interval import IntervalTrigger

    from alerting.compose.daemon import config_broken
    from sentinel.reload import ConfigWatcher
    from storage import lock

    if pipeline.config.file is None:
        return None

    def broken(error: str, digest: str) -> None:
        lock.record_config(pipeline.db, holder, error, None)
        with pipeline.db.session() as s:
            pipeline.outbox.queue(
                s,
                config_broken(
                    str(watcher.path), error, digest, watcher.loaded_at, tz=pipeline.config.tz
                ),
            )
        pipeline.drain()

    watcher = ConfigWatcher(pipeline.config, on_broken=broken)
    lock.record_config(pipeline.db, holder, None, watcher.loaded_at)

    def reload(force: bool = False) -> None:
        was_broken = watcher.error is not None
        new = watcher.check(force=force)
        if new is not None:
            apply_config(sched, pipeline, jobs, new)
        if (new is not None or was_broken) and watcher.error is None:
            lock.record_config(pipeline.db, holder, None, watcher.loaded_at)

    sched.add_job(
        jobs.wrap("config", reload),
        IntervalTrigger(seconds=CONFIG_CHECK_EVERY),
        id="config",
        name="配置文件 sentinel.yaml",
    )
    return reload


def _serve_metrics(pipeline, config, jobs: Jobs, health):
    """Count what the pipeline, the outbox and the jobs do; serve /metrics and /healthz."""
    from sentinel.metrics import Metrics, MetricsServer

    metrics = Metrics()
    pipeline.metrics = metrics
    pipeline.outbox.on_delivery = metrics.delivery
    jobs.observers.append(metrics.job)
    for name, up in pipeline.source_states().items():
        metrics.source_up.labels(name).set(1 if up else 0)
    try:
        server = MetricsServer(metrics, config.metrics.host, config.metrics.port, health).start()
    except OSError as e:  # the port is taken, the address is not this machine's
        from core.errors import SentinelError

        raise SentinelError(
            f"监控指标无法在 {config.metrics.host}:{config.metrics.port} 上监听：{e.strerror or e}"
            "；请在 sentinel.yaml 的 metrics 中换一个端口"
        ) from None
    pipeline.metrics_port = server.port
    return server


def _health(beat, sched, stop: threading.Event) -> dict:
    """``/healthz``: the heartbeat is being written, the scheduler runs, no stop asked."""
    state = {
        "heartbeat": bool(beat and beat.healthy()),
        "scheduler": bool(sched and sched.running),
        "stopping": stop.is_set(),
        "last_heartbeat_at": beat.last_beat if beat else None,
    }
    state["ok"] = state["heartbeat"] and state["scheduler"] and not state["stopping"]
    return state


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

    parser = argparse.ArgumentParser(
        prog="scheduler.py", description="舆情监测守护进程（与 sentinel run 相同）"
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("SENTINEL_CONFIG"),
        metavar="PATH",
        help="配置文件（默认 ./sentinel.yaml 或 $SENTINEL_CONFIG）",
    )
    parser.add_argument("--verbose", action="store_true", help="记录更详细的日志")
    args = parser.parse_args(argv)
    try:
        cfg = config_mod.load(args.config)
        path = logs.setup(cfg.var_path, verbose=args.verbose, fmt=cfg.log_format)
        print(f"日志写入 {path}；按 Ctrl-C 停止。", file=sys.stderr)
        exit_now(run_daemon(cfg))
    except SentinelError as e:
        print(str(e) if isinstance(e, PositionedError) else f"错误：{e}", file=sys.stderr)
        sys.exit(e.exit_code)


def exit_now(clean: bool) -> None:
    """End the process after the daemon stopped. When a job was still running (a thread
    of a pool, which Python would wait for), end it without waiting: its work is keyed
    and redone on the next start."""
    if not clean:
        import os

        logging.shutdown()
        os._exit(0)


if __name__ == "__main__":
    main()
