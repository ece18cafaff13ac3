"""The pipeline from a source to a notification, as the daemon and ``sentinel poll`` run it.

collect (network, no locks) → store posts and snapshots, record health (one transaction)
→ match every post that has no Match yet, open or join incidents, queue messages (one
transaction per post) → drain the outbox. Matching works from the database's backlog,
not from the run's memory, so a crash between the steps loses nothing: the next run
picks up every post that was stored but not yet matched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from crawler.base import CollectContext, CollectResult, SourceConfig, SourceState, source_types
from crawler.sanitize import clean_line
from sentinel.config import Config
from storage.db import Database, StorageError, describe_error
from storage.models import Match, Post, Source
from storage.posts import (
    StoreOutcome,
    ensure_source,
    load_recent_signatures,
    record_health,
    store_posts,
    store_snapshot,
)
from storage.types import utcnow

log = logging.getLogger("sentinel.pipeline")

DEDUP_DAYS = 14
SOURCE_DOWN_AFTER = 3  # consecutive failures before the office is told a source is down


@dataclass
class SourceRun:
    """What one collection pass of one source did (printed by ``sentinel poll``)."""

    source: str
    fetched: int = 0
    new: int = 0
    changed: int = 0
    seen: int = 0
    not_modified: bool = False
    error_kind: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    processed: ProcessStats = field(default_factory=lambda: ProcessStats())  # matched while streaming

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "fetched": self.fetched,
            "new": self.new,
            "changed": self.changed,
            "seen": self.seen,
            "not_modified": self.not_modified,
            "errors": 0 if self.error is None else 1,
            "error_kind": self.error_kind,
            "error": self.error,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ProcessStats:
    matched: int = 0
    alerts: int = 0
    incidents_opened: int = 0
    errors: int = 0

    def add(self, other: ProcessStats) -> ProcessStats:
        self.matched += other.matched
        self.alerts += other.alerts
        self.incidents_opened += other.incidents_opened
        self.errors += other.errors
        return self


class Pipeline:
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
        self.matchers = matcher_holder or MatcherHolder(config.watchlist_files)
        self.outbox = Outbox(db, config, now=now)
        self._store_lock = threading.Lock()
        self._dedup = None

    # -- collection -------------------------------------------------------------
    def context(self) -> CollectContext:
        try:
            queries = list(self.matchers.get().entity_names())
        except Exception:  # a broken watchlist must not stop collection
            queries = []
        return CollectContext(
            user_agent=self.config.full_user_agent, queries=queries, timezone=self.config.timezone
        )

    def dedup_index(self):
        if self._dedup is None:
            from crawler.dedup import NearDuplicateIndex

            index = NearDuplicateIndex()
            with self.db.session() as s:
                load_recent_signatures(s, self.now() - timedelta(days=DEDUP_DAYS), index)
            self._dedup = index
        return self._dedup

    def collect(self, cfg: SourceConfig) -> SourceRun:
        """One collection pass of one source: fetch, store, record health. Never raises
        for a source's own failure (a hostile site, a full disk); that is recorded on the
        source as one line."""
        started = time.monotonic()
        run = SourceRun(source=cfg.name)
        try:
            with self.db.session() as s:
                src = ensure_source(s, cfg)
                state = SourceState(etag=src.etag, last_modified=src.last_modified, data=dict(src.state or {}))
        except Exception as e:  # noqa: BLE001 - the database is full or gone: this run cannot start
            run.error_kind, run.error = "storage", f"无法读写来源状态：{describe_error(e)}"
            run.seconds = time.monotonic() - started
            log.error("来源 %s 采集失败（storage）：%s", cfg.name, run.error)
            return run
        outcome = StoreOutcome()
        streaming = True  # batches handed over during the crawl are matched at once

        def store(posts: list) -> None:
            """Store a batch (in its own transaction) and match it, while the crawl goes on."""
            try:
                dedup = self.dedup_index()  # primed outside the write
                with self._store_lock, self.db.session() as s:
                    got = store_posts(s, ensure_source(s, cfg), posts, now=self.now(), dedup=dedup)
            except Exception as e:
                log.debug("来源 %s 的帖子未能保存", cfg.name, exc_info=True)
                raise StorageError(f"帖子未能保存：{describe_error(e)}") from e
            outcome.new += got.new
            outcome.changed += got.changed
            outcome.seen += got.seen
            if streaming:
                run.processed.add(self.process_pending())

        ctx = self.context()
        ctx.on_posts = store
        try:
            kind = source_types()[cfg.type]
            result = kind(cfg, context=ctx).collect(state)
        except StorageError as e:  # a streamed batch could not be stored: the crawl was stopped
            result = CollectResult(state=state, error_kind="storage", error=str(e))
        except Exception as e:  # a bug in a source type is this source's failure, not the daemon's
            log.exception("来源 %s 采集时程序出错", cfg.name)
            result = CollectResult(state=state, error_kind="crash", error=f"{type(e).__name__}: {e}")
        if result.posts:  # sources that do not stream return their posts at the end
            streaming = False
            try:
                store(result.posts)
            except StorageError as e:
                # Not stored: keep the old ETag/Last-Modified so the next run fetches the
                # same posts in full again, instead of a 304 that would lose them.
                result = CollectResult(state=state, fetched=result.fetched, error_kind="storage", error=str(e))
        # Errors and warnings quote what servers sent (URLs, reasons): one clean line each.
        result.error = clean_line(result.error) if result.error else result.error
        result.warnings = [clean_line(w) for w in result.warnings]
        try:
            with self._store_lock, self.db.session() as s:
                src = ensure_source(s, cfg)
                for fr in result.snapshots:  # fetched but yielded no post (e.g. undecodable): keep it
                    store_snapshot(s, src, fr)
                last_success = src.last_success_at
                record_health(s, src, result, outcome, self.now())
                self._source_notice(s, src, last_success)
        except Exception as e:  # noqa: BLE001 - e.g. the disk filled up just now
            result = CollectResult(state=state, fetched=result.fetched, error_kind="storage",
                                   error=f"采集结果未能保存：{describe_error(e)}")
            self._record_failure(cfg, result)
        run.fetched, run.not_modified = result.fetched, result.not_modified
        run.error_kind, run.error, run.warnings = result.error_kind, result.error, list(result.warnings)
        run.new, run.changed, run.seen = len(outcome.new), len(outcome.changed), outcome.seen
        run.seconds = time.monotonic() - started
        if run.error:
            log.warning("来源 %s 采集失败（%s）：%s", cfg.name, run.error_kind, run.error)
        else:
            log.info("来源 %s：请求 %d 次，新增 %d 条，更新 %d 条", cfg.name, run.fetched, run.new, run.changed)
        return run

    def _record_failure(self, cfg: SourceConfig, result: CollectResult) -> None:
        """Mark the source failing with the smallest write there is (the fuller one just
        failed); when even that fails, the log and the run's output still say why."""
        try:
            with self._store_lock, self.db.session() as s:
                record_health(s, ensure_source(s, cfg), result, None, self.now())
        except Exception as e:  # noqa: BLE001
            log.error("来源 %s 的采集状态未能保存：%s", cfg.name, describe_error(e))

    def _source_notice(self, session, src: Source, last_success: datetime | None) -> None:
        """Tell the office when a source has failed SOURCE_DOWN_AFTER times in a row (once
        per outage), and again when it works again: what the office does not see matters."""
        outage = (last_success.isoformat() if last_success else "never")
        down_key = f"source_down:{src.name}:{outage}"
        tz = self.config.tz
        if src.consecutive_failures >= SOURCE_DOWN_AFTER:
            self.outbox.enqueue(
                session, key=down_key, kind="source_down", to=["office"], source=src.name,
                subject=f"【采集异常】来源“{src.name}”连续 {src.consecutive_failures} 次采集失败",
                template="notice",
                context={
                    "heading": "采集来源异常",
                    "lead": f"来源“{src.name}”已连续 {src.consecutive_failures} 次采集失败，"
                            "在恢复之前，该来源上的新帖文无法被监测到。",
                    "facts": [
                        ("来源", src.name),
                        ("错误类型", src.last_error_kind or "—"),
                        ("错误信息", (src.last_error or "—")[:300]),
                        ("最近一次成功", last_success.astimezone(tz).strftime("%Y-%m-%d %H:%M") if last_success else "从未成功"),
                    ],
                    "paragraphs": ["请检查该网站是否改版、限制访问或地址变更；恢复后系统会另行通知。"],
                },
            )
        elif src.consecutive_failures == 0 and last_success is not None and src.last_success_at != last_success:
            from storage.models import OutboxMessage

            was_down = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == down_key).limit(1))
            if was_down is not None:
                self.outbox.enqueue(
                    session, key=f"source_recovered:{src.name}:{outage}", kind="source_recovered",
                    to=["office"], source=src.name, subject=f"【采集恢复】来源“{src.name}”已恢复正常",
                    template="notice",
                    context={
                        "heading": "采集来源已恢复",
                        "lead": f"来源“{src.name}”已恢复正常采集。",
                        "facts": [("来源", src.name), ("本次新增帖文", str(src.last_new))],
                        "paragraphs": ["中断期间的帖文如仍在网站上，已在本次采集中补采。"],
                    },
                )

    # -- matching and incidents -------------------------------------------------------
    def process_pending(self, limit: int = 5000, chunk: int = 200) -> ProcessStats:
        """Match every stored post that has no Match yet. Posts that need no action are
        recorded in batches; each alert gets its own transaction in which its incident is
        opened or joined and its messages queued — so an alert is never half-done."""
        stats = ProcessStats()
        matcher = self.matchers.get()
        with self._store_lock:
            with self.db.session() as s:
                ids = s.scalars(
                    select(Post.id)
                    .outerjoin(Match, Match.post_id == Post.id)
                    .where(Match.id.is_(None))
                    .order_by(Post.id)
                    .limit(limit)
                ).all()
            for i in range(0, len(ids), chunk):
                self._process_chunk(ids[i : i + chunk], matcher, stats)
        return stats

    def _match_row(self, post: Post, result, matcher) -> Match:
        return Match(
            post_id=post.id,
            watchlist_version=matcher.version,
            mentioned=result.mentioned,
            alert=result.alert,
            score=result.score,
            severity=result.severity,
            category=result.category,
            entities=list(result.entities),
            hits=result.to_dict()["hits"],
            reasons=list(result.reasons),
            matched_at=self.now(),
        )

    def _process_chunk(self, ids: list[int], matcher, stats: ProcessStats) -> None:
        from alerting.incidents import intake

        alerts: list[tuple[int, object]] = []
        try:
            with self.db.session() as s:
                for post in s.scalars(select(Post).where(Post.id.in_(ids)).order_by(Post.id)):
                    result = matcher.match(post.text or "", title=post.title or "")
                    stats.matched += 1
                    if result.alert:
                        alerts.append((post.id, result))
                    else:
                        s.add(self._match_row(post, result, matcher))
        except Exception as e:  # noqa: BLE001 - logged by _log_failure
            # Left without a Match, so the next run tries again: nothing is lost.
            _log_failure(f"帖子 {ids[0]}–{ids[-1]} 匹配出错，下次运行时重试", e)
            stats.errors += 1
            stats.matched -= len(ids)
            return
        for pid, result in alerts:
            try:
                with self.db.session() as s:
                    post = s.get(Post, pid)
                    m = self._match_row(post, result, matcher)
                    s.add(m)
                    s.flush()
                    _incident, opened = intake(s, post, m, config=self.config, outbox=self.outbox, now=self.now())
                    stats.alerts += 1
                    stats.incidents_opened += int(opened)
            except Exception as e:  # noqa: BLE001 - logged by _log_failure
                _log_failure(f"帖子 {pid} 立案处理出错，下次运行时重试", e)
                stats.errors += 1

    # -- one whole pass -----------------------------------------------------------------
    def sources(self, only: str | None = None) -> list[SourceConfig]:
        from sentinel.errors import SentinelError

        chosen = [s for s in self.config.sources if (only is None or s.name == only)]
        if only is not None and not chosen:
            names = ", ".join(s.name for s in self.config.sources) or "(none configured)"
            raise SentinelError(f"没有名为 '{only}' 的来源；已配置的来源：{names}")
        return chosen if only else [s for s in chosen if s.enabled]

    def poll(self, only: str | None = None) -> tuple[list[SourceRun], ProcessStats, dict]:
        """Every source once (or one), then matching, incidents and notifications."""
        runs = [self.collect(cfg) for cfg in self.sources(only)]
        stats = self.process_pending()
        for r in runs:
            stats.add(r.processed)
        sent = self.drain()
        return runs, stats, sent

    def drain(self) -> dict:
        try:
            return self.outbox.drain()
        # The outbox keeps everything; a failed drain is retried later.
        except Exception as e:  # noqa: BLE001 - logged by _log_failure
            _log_failure("发件箱发送出错，消息保留，稍后重试", e)
            return {"error": describe_error(e) if isinstance(e, SQLAlchemyError) else str(e)}

    def tick(self) -> dict:
        """Deadlines, escalation timeouts and tracking: once a minute in the daemon."""
        from alerting.incidents import tick

        return tick(self.db, config=self.config, outbox=self.outbox, now=self.now())


def _log_failure(what: str, e: BaseException) -> None:
    """A database error is one line (the disk is full: nothing to debug); anything else is
    a bug and keeps its traceback in the log."""
    if isinstance(e, (SQLAlchemyError, OSError)):
        log.error("%s：%s", what, describe_error(e))
        log.debug("%s", what, exc_info=e)
    else:
        log.exception(what)


def source_health(db: Database) -> list[Source]:
    with db.session() as s:
        return list(s.scalars(select(Source).order_by(Source.name)))
