"""``sentinel worker``: a crawl worker. It joins the site crawls the daemon puts in the
crawl queue (``crawl_queue`` in sentinel.yaml, Redis through scrapy-redis), runs its
share of each with the configured spider in a child process, stores and matches the
posts in the shared database itself, and keeps its record (pages, last seen) for
``sentinel status``. Run as many as you like, on any machine that reaches the database
and Redis; the daemon sends the notifications.

A stop (SIGTERM, Ctrl-C) kills the crawl under way; the requests still queued are the
other workers'. What this worker had in flight is fetched again on the source's next run.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass

from core.errors import SentinelError
from crawler.base import Collection, Outcome, SourceState
from crawler.deadline import cancel
from crawler.queue import CrawlQueue
from crawler.sources.site import crawl_job
from sentinel.config import Config
from sentinel.pipeline import Pipeline
from sentinel.runs import SourceRun
from storage import workers
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger("sentinel.worker")

LOOK_EVERY = 0.5  # seconds between looks at the queue when there is nothing to do
BEAT_EVERY = 5.0  # seconds between two writes of the worker's record while idle


@dataclass
class _Source:
    """What storing needs of the source a run belongs to (the daemon's config has it)."""

    name: str
    type: str
    obey_robots: bool


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def run_worker(
    config: Config, name: str | None = None, *, stop: threading.Event | None = None, on_started=None
) -> None:
    """Take crawls from the queue until ``stop`` is set (or SIGINT/SIGTERM)."""
    if not config.crawl_queue:
        raise SentinelError(
            "sentinel.yaml 中没有 crawl_queue（如 redis://127.0.0.1:6379/0），采集节点无事可做"
        )
    name = name or default_name()
    stop = stop or threading.Event()
    queue = CrawlQueue(config.crawl_queue, config.crawl_queue_prefix)
    try:
        queue.redis.ping()
    except Exception as e:
        raise SentinelError(f"无法连接采集队列 {config.crawl_queue}：{e}") from None
    db = Database(config.database_url)
    pipeline = Pipeline(config, db)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=lambda: (stop.wait(), cancel(pipeline.cancel)), daemon=True).start()
    workers.started(db, name, utcnow())
    log.info(
        "采集节点 %s 已启动，采集队列 %s（前缀 %s）",
        name,
        config.crawl_queue,
        config.crawl_queue_prefix,
    )
    if on_started:
        on_started(name)
    last_beat = time.monotonic()
    try:
        while not stop.is_set():
            run = queue.take(name)
            if run is not None:
                share(pipeline, queue, name, run)
                last_beat = time.monotonic()
                continue
            if time.monotonic() - last_beat >= BEAT_EVERY:
                workers.beat(db, name, utcnow())
                last_beat = time.monotonic()
            stop.wait(LOOK_EVERY)
    finally:
        db.dispose()
        log.info("采集节点 %s 已停止", name)


def share(pipeline: Pipeline, queue: CrawlQueue, name: str, run: str) -> SourceRun:
    """This worker's share of ``run``: crawl, store and match, count, leave."""
    db = pipeline.db
    record = SourceRun(source=run.rsplit(":", 1)[0])
    spec = queue.job(run)
    if spec is None:  # over meanwhile
        queue.leave(run, name)
        return record
    source = _Source(spec["source"], spec.get("type", "site"), bool(spec.get("obey_robots", True)))
    job = {
        **spec,
        "browser_path": pipeline.config.browser_path,  # this machine's Chromium (render: true)
        "queue": {
            "url": queue.url,
            "prefix": queue.prefix,
            "run": run,
            "worker": name,
            "settings": queue.spider_settings(run),
        },
    }
    workers.in_run(db, name, run, utcnow())
    log.info("采集节点 %s 加入来源 %s 的采集（%s）", name, source.name, run)
    try:
        try:
            with Collection(
                crawl_job(job, spec["timeout"], SourceState(), cancel=pipeline.cancel)
            ) as batches:
                for batch in batches:
                    before = (record.new, record.changed, record.seen)
                    ids = pipeline.store_batch(source, batch, record)
                    if ids:
                        pipeline.match_posts(ids)
                    new, changed, seen = (
                        a - b for a, b in zip((record.new, record.changed, record.seen), before)
                    )
                    queue.count(run, posts=len(batch.posts), new=new, changed=changed, seen=seen)
                    workers.beat(db, name, utcnow(), posts=len(batch.posts))
            outcome = batches.outcome
        except Exception as e:  # storage down, say: this share fails, the run goes on elsewhere
            log.exception("采集节点 %s 在 %s 中出错", name, run)
            outcome = Outcome(error_kind="storage", error=f"{type(e).__name__}: {e}")
        queue.report(run, outcome)  # before leaving: the daemon reads it once the last one left
    finally:
        queue.leave(run, name)
    workers.beat(db, name, utcnow(), pages=outcome.fetched)
    workers.in_run(db, name, None, utcnow())
    log.info(
        "采集节点 %s 完成在 %s 中的部分：%d 个页面，新增 %d 条",
        name,
        run,
        outcome.fetched,
        record.new,
    )
    return record
