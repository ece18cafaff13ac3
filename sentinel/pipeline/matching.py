"""Matching what is stored: every post without a Match is matched, opens or joins an
incident and queues its messages, in small keyed transactions (a crash between two loses
nothing; two workers matching the same backlog open one incident)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sentinel.runs import ProcessStats
from storage.db import describe_error
from storage.models import Match, Post

log = logging.getLogger("sentinel.pipeline")


class Matching:
    """The matching half of the ``Pipeline`` (it supplies ``db``, ``config``, ``outbox``,
    ``matchers`` and ``now``)."""

    def process_pending(self, limit: int = 5000, chunk: int = 200) -> ProcessStats:
        """Match up to ``limit`` stored posts that have no Match yet. Posts that need no
        action are recorded in batches; each alert gets its own transaction in which its
        incident is opened or joined and its messages queued — so an alert is never half-done."""
        stats = ProcessStats()
        self._process_ids(self._pending_ids(0, limit), self.matchers.get(), stats, chunk)
        if self.metrics is not None:
            self.metrics.processed(stats)
        return stats

    def process_backlog(
        self, progress: Callable[[int, int], None] | None = None, rounds_of: int = 5000
    ) -> ProcessStats:
        """Every stored post without a Match, however many (``poll``, the daemon's backlog
        job): rounds of ``rounds_of`` posts, each round after the last one's highest id, so
        a post that keeps failing is tried once per pass, not for ever."""
        stats = ProcessStats()
        matcher = self.matchers.get()
        with self.db.session() as s:
            total = (
                s.scalar(
                    select(func.count(Post.id))
                    .outerjoin(Match, Match.post_id == Post.id)
                    .where(Match.id.is_(None))
                )
                or 0
            )
        after, done = 0, 0
        while ids := self._pending_ids(after, rounds_of):
            self._process_ids(ids, matcher, stats)
            after, done = ids[-1], done + len(ids)
            if progress:
                progress(min(done, total), max(total, done))
        if self.metrics is not None:
            self.metrics.processed(stats)
        return stats

    def _pending_ids(self, after: int, limit: int) -> list[int]:
        with self.db.reading() as s:
            return list(
                s.scalars(
                    select(Post.id)
                    .outerjoin(Match, Match.post_id == Post.id)
                    .where(Match.id.is_(None), Post.id > after)
                    .order_by(Post.id)
                    .limit(limit)
                )
            )

    def _process_ids(self, ids: list[int], matcher, stats: ProcessStats, chunk: int = 200) -> None:
        for i in range(0, len(ids), chunk):
            self._process_chunk(ids[i : i + chunk], matcher, stats)

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
            sentiment=result.sentiment.label if result.sentiment else None,
            sentiment_score=round(result.sentiment.score, 3) if result.sentiment else None,
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
        except Exception as e:
            # Left without a Match, so the next run tries again: nothing is lost.
            if self._lost_race(e, ids):  # another worker matched them at the same moment
                log.info("帖子 %s–%s 已由另一个进程同时匹配，本次跳过", ids[0], ids[-1])
            else:
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
                    _incident, opened = intake(
                        s, post, m, config=self.config, outbox=self.outbox, now=self.now()
                    )
                    stats.alerts += 1
                    stats.incidents_opened += int(opened)
            except Exception as e:
                if self._lost_race(e, [pid]):  # the same post taken by another worker: done there
                    log.info("帖子 %s 已由另一个进程同时立案处理", pid)
                    stats.matched -= 1
                else:
                    _log_failure(f"帖子 {pid} 立案处理出错，下次运行时重试", e)
                    stats.errors += 1

    def _lost_race(self, error: Exception, ids: list[int]) -> bool:
        """A key clash because another worker committed a Match for one of these posts."""
        if not isinstance(error, IntegrityError):
            return False
        with self.db.session() as s:
            return s.scalar(select(Match.id).where(Match.post_id.in_(ids)).limit(1)) is not None

    # -- one whole pass -----------------------------------------------------------------


def _log_failure(what: str, e: BaseException) -> None:
    """A database error is one line (the disk is full: nothing to debug); anything else is
    a bug and keeps its traceback in the log."""
    if isinstance(e, (SQLAlchemyError, OSError)):
        log.error("%s：%s", what, describe_error(e))
        log.debug("%s", what, exc_info=e)
    else:
        log.exception(what)
