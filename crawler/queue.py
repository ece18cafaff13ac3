"""Site crawls shared by crawl workers through Redis, with scrapy-redis.

With ``crawl_queue: redis://…`` in sentinel.yaml the daemon does not crawl a site
itself: it puts the run's job in Redis and waits; ``sentinel worker`` processes on any
machine join the run, each running the configured spider with scrapy-redis's
scheduler, so they take requests from one shared queue and one shared duplicate filter
(no page fetched twice), store the posts in the database themselves and count what
they did in the run's stats. The daemon records the run on the source when it is over.

Keys (``{p}`` the ``crawl_queue_prefix``), one set per run, so two sources — or two runs
of one source — never share a queue or a duplicate filter::

    {p}:runs                    the runs workers may join
    {p}:run:{run}:job           the spider's job (pickled)
    {p}:run:{run}:requests      scrapy-redis's request queue (a sorted set)
    {p}:run:{run}:dupefilter    scrapy-redis's fingerprints
    {p}:run:{run}:active        workers in the run; :idle those with nothing in flight;
                                :workers all that joined it (each joins once)
    {p}:run:{run}:stats         counts (hash); :warnings and :errors what workers reported

scrapy-redis 0.9.1 with Scrapy 2.19: its scheduler, queue and duplicate filter work (the
scheduler interface is duck-typed; requests go through ``Request.to_dict`` and
``request_from_dict``). Its ``RedisSpider`` does not: it feeds start URLs through
``start_requests()``, which Scrapy 2.13+ no longer calls. So the workers' spider stays
ours — its own ``start()`` yields the start pages, which the shared duplicate filter lets
in once — and the waiting for other workers' requests is done here (``attach``).
``SCHEDULER_PERSIST`` is on: a worker that leaves must not flush the queue the others
still use; the daemon deletes the run's keys when the run is over.
"""

from __future__ import annotations

import pickle
import random
import threading
import time
import uuid
from collections.abc import Generator
from typing import Any

from crawler.base import Outcome, SourceState

# A worker joins a run once: after its share it does not come back to the same run.
JOIN = """
if redis.call('sismember', KEYS[1], ARGV[1]) == 1 and redis.call('sismember', KEYS[4], ARGV[2]) == 0 then
  redis.call('sadd', KEYS[2], ARGV[2]); redis.call('sadd', KEYS[4], ARGV[2]); redis.call('set', KEYS[3], '1')
  return 1
end
return 0
"""
# Over when a worker took it, none is left in it and nothing is queued.
FINISH = """
if redis.call('exists', KEYS[3]) == 1 and redis.call('scard', KEYS[2]) == 0
   and redis.call('zcard', KEYS[4]) == 0 then
  redis.call('srem', KEYS[1], ARGV[1]); return 1
end
return 0
"""
WAIT_EVERY = 0.25  # seconds between the daemon's looks at a run
KEEP_ERRORS = 50


class QueueUnavailable(Exception):
    """Redis cannot be reached."""


def run_key(prefix: str, run: str, part: str) -> str:
    return f"{prefix}:run:{run}:{part}"


class CrawlQueue:
    """The Redis side of shared crawls, for the daemon (``crawl``) and the workers
    (``take``, ``job``, ``count``, ``leave``)."""

    def __init__(self, url: str, prefix: str = "sentinel"):
        import redis

        self.url, self.prefix = url, prefix
        self.redis = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        self._join = self.redis.register_script(JOIN)
        self._finish = self.redis.register_script(FINISH)

    # -- keys ---------------------------------------------------------------------
    @property
    def runs(self) -> str:
        return f"{self.prefix}:runs"

    def key(self, run: str, part: str) -> str:
        return run_key(self.prefix, run, part)

    def spider_settings(self, run: str) -> dict[str, Any]:
        """Scrapy settings of a worker's spider in ``run``."""
        return {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": self.key(run, "requests"),
            "SCHEDULER_DUPEFILTER_KEY": self.key(run, "dupefilter"),
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": self.url,
        }

    # -- the daemon ----------------------------------------------------------------
    def crawl(
        self,
        source: str,
        job: dict,
        timeout: float,
        cancel: threading.Event | None,
        state: SourceState,
    ) -> Generator[None, None, Outcome]:
        """Hand one run to the workers and wait for its end (or ``timeout``); the
        outcome carries what the workers stored. A generator, like a source's collect:
        it yields nothing, the posts went to the database from the workers."""
        yield from ()
        try:
            run = self.submit(source, job, timeout)
        except QueueUnavailable as e:
            return Outcome(state=state, error_kind="crawler", error=str(e))
        try:
            finished = self.wait(run, timeout, cancel)
            return self.outcome(run, state, finished, timeout, cancel)
        finally:
            self.cleanup(run)

    def submit(self, source: str, job: dict, timeout: float) -> str:
        run = f"{source}:{uuid.uuid4().hex[:12]}"
        try:
            pipe = self.redis.pipeline()
            pipe.set(
                self.key(run, "job"),
                pickle.dumps({**job, "source": source, "timeout": timeout}),
                ex=int(timeout) + 3600,
            )
            pipe.sadd(self.runs, run)
            pipe.execute()
        except Exception as e:
            raise QueueUnavailable(f"无法连接采集队列 {self.url}：{e}") from None
        return run

    def wait(self, run: str, timeout: float, cancel: threading.Event | None) -> bool:
        """True when the run ended; False on ``timeout`` or ``cancel`` (then it is withdrawn)."""
        end = time.monotonic() + timeout
        keys = [
            self.runs,
            self.key(run, "active"),
            self.key(run, "started"),
            self.key(run, "requests"),
        ]
        while time.monotonic() < end and not (cancel is not None and cancel.is_set()):
            if self._finish(keys=keys, args=[run]):
                return True
            time.sleep(WAIT_EVERY)
        self.redis.srem(self.runs, run)  # workers stop at their next idle moment
        return False

    def outcome(
        self,
        run: str,
        state: SourceState,
        finished: bool,
        timeout: float,
        cancel: threading.Event | None,
    ) -> Outcome:
        """The run as one source's outcome: every worker's counts, warnings and errors."""
        stats = {k.decode(): int(v) for k, v in self.redis.hgetall(self.key(run, "stats")).items()}
        errors = [
            pickle.loads(e) for e in self.redis.lrange(self.key(run, "errors"), 0, KEEP_ERRORS - 1)
        ]
        warnings = [
            w.decode() for w in self.redis.lrange(self.key(run, "warnings"), 0, KEEP_ERRORS - 1)
        ]
        started = bool(self.redis.exists(self.key(run, "started")))
        out = Outcome(
            state=state.copy(),
            fetched=stats.get("responses", 0),
            requests=stats.get("requests", 0),
            warnings=list(dict.fromkeys(warnings)),
        )
        out.stored = {k: stats.get(k, 0) for k in ("new", "changed", "seen")}
        out.state.data["crawl_workers"] = int(self.redis.scard(self.key(run, "workers")))
        if cancel is not None and cancel.is_set():
            out.error_kind, out.error = "cancelled", "采集因守护进程停止而中止"
        elif not finished and not started:
            out.error_kind, out.error = (
                "crawler",
                f"{timeout:g} 秒内没有采集节点（sentinel worker）领取这次采集",
            )
        elif not finished:
            out.error_kind, out.error = "timeout", f"the crawl did not finish within {timeout:g} s"
        elif errors and not stats.get("posts"):  # every worker's share failed, nothing found
            out.error_kind, out.error = errors[0]["kind"], errors[0]["message"]
        return out

    def cleanup(self, run: str) -> None:
        self.redis.srem(self.runs, run)
        parts = (
            "job",
            "requests",
            "dupefilter",
            "active",
            "idle",
            "started",
            "stats",
            "errors",
            "warnings",
            "workers",
        )
        self.redis.delete(*(self.key(run, p) for p in parts))

    # -- the workers ---------------------------------------------------------------
    def take(self, worker: str) -> str | None:
        """Join one of the runs under way (chosen at random: workers spread over them)."""
        runs = [r.decode() for r in self.redis.smembers(self.runs)]
        random.shuffle(runs)
        for run in runs:
            keys = [
                self.runs,
                self.key(run, "active"),
                self.key(run, "started"),
                self.key(run, "workers"),
            ]
            if self._join(keys=keys, args=[run, worker]):
                return run
        return None

    def job(self, run: str) -> dict | None:
        raw = self.redis.get(self.key(run, "job"))
        return pickle.loads(raw) if raw else None

    def count(self, run: str, **counts: int) -> None:
        pipe = self.redis.pipeline()
        for k, v in counts.items():
            if v:
                pipe.hincrby(self.key(run, "stats"), k, v)
        pipe.execute()

    def report(self, run: str, outcome: Outcome) -> None:
        """A worker's share of the run is over: its requests, responses, warnings and
        (when its share failed) its error."""
        self.count(run, requests=outcome.requests, responses=outcome.fetched)
        pipe = self.redis.pipeline()
        for w in outcome.warnings[:KEEP_ERRORS]:
            pipe.rpush(self.key(run, "warnings"), w)
        if outcome.error and outcome.error_kind != "cancelled":
            pipe.rpush(
                self.key(run, "errors"),
                pickle.dumps({"kind": outcome.error_kind, "message": outcome.error}),
            )
        pipe.ltrim(self.key(run, "warnings"), 0, KEEP_ERRORS - 1)
        pipe.execute()

    def leave(self, run: str, worker: str) -> None:
        pipe = self.redis.pipeline()
        pipe.srem(self.key(run, "idle"), worker)
        pipe.srem(self.key(run, "active"), worker)
        pipe.execute()


def attach(spider, crawler) -> None:
    """In a worker's spider (the child process): keep it open while other workers may
    still add requests to the shared queue, and close it when every worker in the run
    has nothing in flight and nothing is queued (or the run was withdrawn)."""
    import redis
    from scrapy import signals
    from scrapy.core.engine import ExecutionEngine
    from scrapy.exceptions import DontCloseSpider

    q = spider.job["queue"]
    r = redis.Redis.from_url(q["url"])
    run, me, prefix = q["run"], q["worker"], q["prefix"]
    runs = f"{prefix}:runs"
    idle, active, requests = (run_key(prefix, run, part) for part in ("idle", "active", "requests"))
    # An idle spider looks at the scheduler again at each engine heartbeat: 5 s by
    # default, too slow to pick up the requests other workers add (private, but a class
    # attribute since Scrapy 2.0; tests/daemon/test_workers.py notices a change).
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = 0.5

    def busy(request, spider):
        r.srem(idle, me)

    def on_idle(spider):
        if not r.sismember(runs, run):
            return  # withdrawn (timeout, the daemon stops) or over: close
        r.sadd(idle, me)
        if r.zcard(requests) == 0 and r.scard(idle) >= r.scard(active):
            return  # nobody has anything left to do
        raise DontCloseSpider

    crawler.signals.connect(busy, signal=signals.request_reached_downloader, weak=False)
    crawler.signals.connect(on_idle, signal=signals.spider_idle, weak=False)
