"""The pipeline from a source to a notification, as the daemon and ``sentinel poll`` run it.

collect: a source yields batches of posts (network, no database); each batch is stored
(one transaction) and then matched → after the last batch, the run is recorded on the
source's health (one transaction) → matching takes every stored post that has no Match
yet, opens or joins incidents and queues messages (one transaction per post) → the
outbox is drained. Matching works from the database's backlog, not from the run's
memory, so a crash between the steps loses nothing: the next run picks up every post
that was stored but not yet matched.

Nothing here serialises the scheduler's workers: every write is keyed (a post by its
URL, a match by its post, a message by its key), so two workers storing or matching
the same posts at once store and queue each thing once; the loser of such a race
finds the winner's row and moves on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.errors import SentinelError
from core.times import office_time
from core.vocabulary import FetchErrorKind
from crawler.base import Batch, CollectContext, Collection, Outcome, SourceConfig, SourceState
from crawler.placeholder import shows_no_text
from crawler.registry import source_types
from crawler.sanitize import clean_line
from sentinel.config import Config
from sentinel.pipeline.matching import Matching, _log_failure
from sentinel.runs import ProcessStats, SourceRun
from storage.backoff import schedule_next
from storage.db import Database, describe_error
from storage.health import is_down, record_health
from storage.models import Source
from storage.posts import ensure_source, load_recent_signatures, store_posts, store_snapshot
from storage.types import utcnow

log = logging.getLogger("sentinel.pipeline")

DEDUP_DAYS = 14


class Pipeline(Matching):
    """Wires config, database, matcher, incidents and outbox together."""

    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        now: Callable[[], datetime] = utcnow,
        matcher_holder=None,
    ):
        from alerting.matcher import MatcherHolder
        from alerting.notify.outbox import Outbox

        self.config = config
        self.db = db
        self.now = now
        # The watchlists named by the configuration in use (a reload may change them).
        self.matchers = matcher_holder or MatcherHolder(
            lambda: self.config.watchlist_files(), cache_dir=config.cache_dir
        )
        self.outbox = Outbox(db, config, now=now)
        self._dedup = None
        self._dedup_ready = threading.Lock()  # builds the index once; not held while storing
        # Set when the daemon stops: every fetch and crawl under way ends at once.
        self.cancel = threading.Event()
        self.metrics = None  # the daemon's sentinel.metrics.Metrics, told of each run and pass
        self._queries: tuple[float, list[str]] | None = None  # (when, the watchlists' entity names)
        self._queue = None  # crawler.queue.CrawlQueue, when crawl_queue is set

    def reconfigure(self, config: Config) -> None:
        """A reloaded ``sentinel.yaml`` (the daemon's): used from the next job on."""
        self.config = config
        self.outbox.config = config

    # -- collection -------------------------------------------------------------
    def context(self) -> CollectContext:
        now = time.monotonic()
        cached = self._queries
        if (
            cached is None or now - cached[0] > 1.0
        ):  # a thousand sources need not stat the files a thousand times
            try:
                names = list(self.matchers.get().entity_names())
            except Exception:  # a broken watchlist must not stop collection
                names = []
            cached = self._queries = (now, names)
        queries = list(cached[1])
        return CollectContext(
            user_agent=self.config.full_user_agent,
            queries=queries,
            timezone=self.config.timezone,
            browser_path=self.config.browser_path,
            cancel=self.cancel,
            crawl_queue=self.crawl_queue(),
        )

    def crawl_queue(self):
        """The crawl queue (``crawl_queue`` in sentinel.yaml), or None: crawl here."""
        url, prefix = self.config.crawl_queue, self.config.crawl_queue_prefix
        if url is None:
            return None
        if self._queue is None or (self._queue.url, self._queue.prefix) != (url, prefix):
            from crawler.queue import CrawlQueue

            self._queue = CrawlQueue(url, prefix)
        return self._queue

    def dedup_index(self):
        with self._dedup_ready:
            if self._dedup is None:
                from crawler.dedup import NearDuplicateIndex

                index = NearDuplicateIndex()
                with self.db.session() as s:
                    load_recent_signatures(s, self.now() - timedelta(days=DEDUP_DAYS), index)
                self._dedup = index
        return self._dedup

    def collect(self, cfg: SourceConfig) -> SourceRun:
        """One collection pass of one source: each batch it yields is stored and matched;
        then the run is recorded on the source. Never raises for a source's own failure:
        that is recorded on the source."""
        try:
            source_id, state = self.states_of([cfg])[cfg.name]
        except Exception as e:
            run = SourceRun(
                source=cfg.name,
                error_kind="storage",
                error=f"无法读写来源状态：{describe_error(e)}",
            )
            log.error("来源 %s 采集失败（storage）：%s", cfg.name, run.error)
            return run
        run, outcome = self.fetch(cfg, state)
        if outcome is not None:
            try:
                with self.db.session() as s:
                    self.record(
                        s, cfg, s.get(Source, source_id) or ensure_source(s, cfg), run, outcome
                    )
            except Exception as e:
                outcome = Outcome(
                    state=state,
                    fetched=outcome.fetched,
                    error_kind="storage",
                    error=f"采集结果未能保存：{describe_error(e)}",
                )
                run.error_kind, run.error = outcome.error_kind, outcome.error
                self._record_failure(cfg, outcome)
        return run

    def states_of(self, cfgs: list[SourceConfig]) -> dict[str, tuple[int, SourceState]]:
        """Each source's record id and kept state (ETag, Last-Modified, its data), read
        without a write lock; the records of sources never seen are created."""
        out: dict[str, tuple[int, SourceState]] = {}
        names = [c.name for c in cfgs]
        with self.db.reading() as s:  # no write lock: many sources start side by side
            for i in range(0, len(names), 500):
                # The five columns it needs, not whole records: ten thousand rows each pass.
                rows = s.execute(
                    select(
                        Source.id, Source.name, Source.etag, Source.last_modified, Source.state
                    ).where(Source.name.in_(names[i : i + 500]))
                )
                for id_, name, etag, last_modified, data in rows:
                    state = SourceState(
                        etag=etag, last_modified=last_modified, data=dict(data or {})
                    )
                    out[name] = (id_, state)
        missing = [c for c in cfgs if c.name not in out]
        if missing:
            with self.db.session() as s:
                for c in missing:
                    src = ensure_source(s, c)
                    s.flush()
                    out[c.name] = (src.id, SourceState(data={}))
        return out

    def fetch(self, cfg: SourceConfig, state: SourceState) -> tuple[SourceRun, Outcome | None]:
        """Run the source (its batches stored and matched as they come); the outcome is
        None when the daemon stopped it: not the source's failure, nothing to record."""
        run = SourceRun(source=cfg.name)
        started = time.monotonic()
        outcome = self._run_source(cfg, state, run)
        # Errors and warnings quote what servers sent (URLs, reasons): one clean line each.
        outcome.error = clean_line(outcome.error) if outcome.error else outcome.error
        outcome.warnings = [clean_line(w) for w in outcome.warnings]
        if outcome.stored:  # the crawl workers stored this run's posts
            run.new, run.changed, run.seen = (
                outcome.stored.get(k, 0) for k in ("new", "changed", "seen")
            )
        run.fetched, run.not_modified = outcome.fetched, outcome.not_modified
        run.error_kind, run.error, run.warnings = (
            outcome.error_kind,
            outcome.error,
            list(outcome.warnings),
        )
        run.seconds = time.monotonic() - started
        if self.cancel.is_set():
            run.error_kind, run.error = "cancelled", outcome.error or "stopped"
            log.info("来源 %s 的采集因守护进程停止而中止，下次启动时重新采集", cfg.name)
            return run, None
        return run, outcome

    def record(
        self, session, cfg: SourceConfig, src: Source, run: SourceRun, outcome: Outcome
    ) -> None:
        """Write a run on its source's record: health, backoff, the office's notices."""
        src.type, src.robots_obeyed = cfg.type, cfg.obey_robots
        last_success, was_failing = src.last_success_at, src.consecutive_failures > 0
        record_health(
            session,
            src,
            outcome,
            self.now(),
            new=run.new + run.changed,
            seen=run.seen,
            empty=run.empty,
        )
        run.next_attempt_at = schedule_next(
            src, outcome, cfg.interval, self.config.backoff, self.now()
        )
        self._source_notice(session, src, last_success, was_failing)
        if self.metrics is not None:
            self.metrics.source_run(run)
        if run.error:
            retry = (
                f"，{office_time(run.next_attempt_at, style='second')} 再试"
                if run.next_attempt_at
                else ""
            )
            log.warning(
                "来源 %s 采集失败（%s）：%s%s",
                cfg.name,
                FetchErrorKind.label_of(run.error_kind),
                run.error,
                retry,
            )
        else:  # an unchanged source every few minutes is no news: the debug log only
            log.log(
                logging.INFO if run.new or run.changed else logging.DEBUG,
                "来源 %s：请求 %d 次，新增 %d 条，更新 %d 条",
                cfg.name,
                run.fetched,
                run.new,
                run.changed,
            )

    def _run_source(self, cfg: SourceConfig, state: SourceState, run: SourceRun) -> Outcome:
        """Loop over the source's batches: store each, then match. A batch that cannot be
        stored ends the run as a storage failure (the source's generator is closed, a
        crawl child is stopped) and keeps the old state: the next run fetches the same
        posts again instead of a 304 that would lose them."""
        try:
            source = source_types()[cfg.type](cfg, context=self.context())
            with Collection(source.collect(state)) as batches:
                for batch in batches:
                    try:
                        stored = self.store_batch(cfg, batch, run)
                    except Exception as e:
                        _log_failure(f"来源 {cfg.name} 的帖子未能保存", e)
                        return Outcome(
                            state=state,
                            error_kind="storage",
                            error=f"帖子未能保存：{describe_error(e)}",
                        )
                    if stored:
                        run.processed.add(self.match_posts(stored))
            return batches.outcome
        except Exception as e:  # a bug in a source type is this source's failure, not the daemon's
            log.exception("来源 %s 采集时程序出错", cfg.name)
            return Outcome(state=state, error_kind="crash", error=f"{type(e).__name__}: {e}")

    def _record_failure(self, cfg: SourceConfig, outcome: Outcome) -> None:
        """Mark the source failing with the smallest write there is (the fuller one just
        failed); when even that fails, the log and the run's output still say why."""
        try:
            with self.db.session() as s:
                record_health(s, ensure_source(s, cfg), outcome, self.now())
        except Exception as e:
            log.error("来源 %s 的采集状态未能保存：%s", cfg.name, describe_error(e))

    def match_posts(self, ids: list[int]) -> ProcessStats:
        """Match the posts just stored (new or edited), and only those: the rest of the
        backlog is the backlog job's. A failure here is not the source's (a watchlist
        broken since start-up, say): the posts stay in the backlog for the next pass."""
        try:
            stats = ProcessStats()
            self._process_ids(ids, self.matchers.get(), stats)
            if self.metrics is not None:
                self.metrics.processed(stats)
            return stats
        except SentinelError as e:
            log.error("帖子已保存，暂未匹配（下次重试）：%s", e)
        except Exception:
            log.exception("帖子已保存，匹配时出错（下次重试）")
        return ProcessStats(errors=1)

    def store_batch(self, cfg: SourceConfig, batch: Batch, run: SourceRun) -> list[int]:
        """One batch in one transaction: its posts (keyed by URL) and its other snapshots.
        Returns the ids of the posts stored new or edited (to be matched)."""
        dedup = self.dedup_index() if batch.posts else None  # primed outside the write
        for attempt in (1, 2):
            try:
                with self.db.session() as s:
                    src = ensure_source(s, cfg)
                    for fr in batch.snapshots:  # fetched but yielded no post: kept as evidence
                        store_snapshot(s, src, fr)
                    got = store_posts(s, src, batch.posts, now=self.now(), dedup=dedup)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                # Another worker stored the same post at the same moment; its row is
                # committed now, so the second attempt finds it and counts it as seen.
        run.new += len(got.new)
        run.changed += len(got.changed)
        run.seen += got.seen
        run.empty += sum(
            shows_no_text(
                p.title,
                p.text,
                title_is_content=cfg.type == "feed" or bool(p.extra.get("from_list_row")),
            )
            for p in batch.posts
        )
        return [p.id for p in got.new + got.changed]

    def _source_notice(
        self, session, src: Source, last_success: datetime | None, was_failing: bool
    ) -> None:
        """Tell the office when a source has failed ``health.down_after`` times in a row
        (once per outage), and again when it works again: what the office does not see matters."""
        from alerting.compose import source_health
        from alerting.compose.views import source_label

        if is_down(src, self.config.health):
            label = source_label(self.config, src.name)
            self.outbox.queue(
                session,
                source_health.source_down(src, last_success, tz=self.config.tz, label=label),
            )
        elif (
            was_failing
            and src.consecutive_failures == 0
            and last_success is not None
            and self.outbox.queued(session, source_health.down_key(src.name, last_success))
        ):
            label = source_label(self.config, src.name)
            self.outbox.queue(
                session, source_health.source_recovered(src, last_success, label=label)
            )

    def sources(self, only: str | None = None) -> list[SourceConfig]:
        chosen = [s for s in self.config.sources if (only is None or s.name == only)]
        if only is not None and not chosen:
            names = ", ".join(s.name for s in self.config.sources) or "(none configured)"
            raise SentinelError(f"没有名为 '{only}' 的来源；已配置的来源：{names}")
        return chosen if only else [s for s in chosen if s.enabled]

    def source_states(self) -> dict[str, bool]:
        """Each configured source: did its last run work (False when it never ran)?"""
        from storage.health import is_healthy

        with self.db.session() as s:
            records = {x.name: x for x in s.scalars(select(Source))}
        return {c.name: is_healthy(records.get(c.name)) for c in self.sources()}

    def next_attempts(self) -> dict[str, datetime]:
        """Failing sources and when their backoff lets them be tried again."""
        with self.db.session() as s:
            rows = s.execute(
                select(Source.name, Source.next_attempt_at).where(
                    Source.next_attempt_at.is_not(None)
                )
            )
            return {name: at for name, at in rows}

    def poll(
        self,
        only: str | None = None,
        on_source: Callable[[int, int], None] | None = None,
        on_backlog: Callable[[int, int], None] | None = None,
    ) -> tuple[list[SourceRun], ProcessStats, dict]:
        """Every source once (or one), then the whole backlog's matching, incidents and
        notifications. ``on_source(done, total)`` and ``on_backlog(done, total)`` follow
        the progress (a progress bar)."""
        from sentinel.sweep import sweep

        runs = sweep(self, self.sources(only), on_source)
        stats = self.process_backlog(progress=on_backlog)
        for r in runs:
            stats.add(r.processed)
        sent = self.drain()
        return runs, stats, sent

    def drain(self) -> dict:
        try:
            return self.outbox.drain()
        # The outbox keeps everything; a failed drain is retried later.
        except Exception as e:
            _log_failure("发件箱发送出错，消息保留，稍后重试", e)
            return {"error": describe_error(e) if isinstance(e, SQLAlchemyError) else str(e)}

    def tick(self) -> dict:
        """Deadlines, escalation timeouts and tracking: once a minute in the daemon."""
        from alerting.incidents import tick

        return tick(self.db, config=self.config, outbox=self.outbox, now=self.now())

    def early_warning(self) -> list[str]:
        """Queue a 【舆情预警·异常增长】 notice when talk about the college rises against the
        same hours of the past days (``alerting.early_warning``); the outbox job sends it."""
        from alerting.early_warning import check

        return check(self.db, self.config, self.outbox, self.now())

    def recheck_takedowns(self) -> dict:
        """Re-fetch the posts of incidents whose source was dealt with (信息源已处置) that are
        due, and record whether each is gone or still online."""
        from alerting.incidents import takedown

        return takedown.recheck(self.db, config=self.config, now=self.now())
