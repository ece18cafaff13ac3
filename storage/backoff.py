"""Backoff for a failing source: the next attempt at its interval × 2ⁿ after its n-th
failure in a row, capped, spread by jitter, never sooner than the server asked
(429 / ``Retry-After``); back to its interval on the first success.

The time of the next attempt is kept on the source's record (``next_attempt_at``), so
a restarted daemon keeps honouring it, and ``sentinel status`` shows it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from core.durations import Duration
from crawler.base import Outcome
from storage.models import Source


class BackoffSettings(BaseModel):
    """``backoff:`` in sentinel.yaml: how a failing source is retried."""

    model_config = ConfigDict(extra="forbid")

    max_delay: Duration = Field(
        3600,
        description="Longest wait between two attempts of a failing source (never less than "
        "its own interval); default 1h.",
    )
    jitter: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Random spread of each wait (0–1): 0.2 means up to 20 % shorter or longer, "
        "so sources that failed together do not retry together.",
    )
    max_retry_after: Duration = Field(
        86400,
        description="Longest Retry-After (from a 429 or 503 answer) that is honoured; default 1d.",
    )


def retry_delay(
    interval: float,
    failures: int,
    settings: BackoffSettings,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the ``failures``-th failure in a row (1 = the first)."""
    cap = max(interval, settings.max_delay)
    delay = min(cap, interval * 2 ** min(max(failures, 1), 40))
    delay *= 1 + settings.jitter * (2 * rand() - 1)
    delay = max(interval, delay)
    if retry_after:
        delay = max(delay, min(retry_after, settings.max_retry_after))
    return delay


def schedule_next(
    source: Source,
    outcome: Outcome,
    interval: float,
    settings: BackoffSettings,
    now: datetime,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """After ``record_health``: when the source may be tried again (None: at its
    interval, it works). Written on the record and returned."""
    if outcome.ok:
        source.next_attempt_at = None
    else:
        delay = retry_delay(
            interval, source.consecutive_failures, settings, outcome.retry_after, rand
        )
        source.next_attempt_at = now + timedelta(seconds=delay)
    return source.next_attempt_at
