"""Quiet runs written as plain rows: a pass over ten thousand feeds finds most of them
unchanged (a 304, nothing new, no warning, the same ETag), and what such a run writes
on its record is the same for every one of them. They are written a few hundred per
``UPDATE … WHERE id IN (...)``, not one ORM object each.

Only a source that was healthy before the run qualifies (the ``WHERE`` says so, in the
same statement): a failing one that works again may owe the office a 【采集恢复】
notice, which ``storage.health.record_health`` and the pipeline's notices handle. What
the statement wrote is what ``record_health`` and ``schedule_next`` would have written
for such a run: the last run and success now, no failures, no counts, no warning, no
backoff; its ETag, Last-Modified and state stay as they are, being unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from crawler.base import Outcome, SourceState
from storage.models import Source

CHUNK = 500  # ids per statement (SQLite's bound-parameter limit is far above)


def is_quiet(outcome: Outcome, kept: SourceState, *, new: int, seen: int, empty: int) -> bool:
    """A run whose record write is the common one: worked, found nothing, said nothing,
    and left the source's state (ETag, Last-Modified, its data) as it was."""
    state = outcome.state
    return (
        outcome.ok
        and not outcome.warnings
        and not (new or seen or empty)
        and state.etag == kept.etag
        and state.last_modified == kept.last_modified
        and (state.data or {}) == (kept.data or {})
    )


def record_quiet(
    session: Session, runs: Iterable[tuple[int, str, bool, int]], now: datetime
) -> set[int]:
    """Write quiet runs, given as (source id, type, robots obeyed, responses fetched), on
    their records. Returns the ids written: a source failing before this run is not
    (its record goes the whole way, through ``record_health``)."""
    groups: dict[tuple[str, bool, int], list[int]] = defaultdict(list)
    for source_id, type_, robots, fetched in runs:
        groups[(type_, bool(robots), fetched)].append(source_id)
    table = Source.__table__
    written: set[int] = set()
    for (type_, robots, fetched), ids in groups.items():
        for i in range(0, len(ids), CHUNK):
            stmt = (
                update(table)
                .where(table.c.id.in_(ids[i : i + CHUNK]), table.c.consecutive_failures == 0)
                .values(
                    type=type_,
                    robots_obeyed=robots,
                    last_run_at=now,
                    last_success_at=now,
                    last_fetched=fetched,
                    last_warning=None,
                    consecutive_failures=0,
                    last_new=0,
                    last_seen=0,
                    last_empty=0,
                    next_attempt_at=None,
                )
                .returning(table.c.id)
            )
            written.update(session.execute(stmt).scalars())
    return written
