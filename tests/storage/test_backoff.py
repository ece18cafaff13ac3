"""A failing source waits its interval × 2ⁿ, capped, spread by jitter, never less than
the server asked; the first success brings it back to its interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.base import Outcome
from storage.backoff import BackoffSettings, retry_delay, schedule_next
from storage.models import Source

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
NO_JITTER = BackoffSettings(jitter=0, max_delay=3600)


def test_the_wait_doubles_with_each_failure_up_to_the_cap():
    waits = [retry_delay(300, n, NO_JITTER) for n in range(1, 7)]
    assert waits == [600, 1200, 2400, 3600, 3600, 3600]


def test_the_cap_is_never_below_the_sources_own_interval():
    assert retry_delay(7200, 3, NO_JITTER) == 7200


def test_jitter_spreads_the_wait_both_ways_within_its_share():
    s = BackoffSettings(jitter=0.2, max_delay=3600)
    assert retry_delay(300, 1, s, rand=lambda: 0.0) == 480  # 600 − 20 %
    assert retry_delay(300, 1, s, rand=lambda: 1.0) == 720  # 600 + 20 %
    assert retry_delay(300, 9, s, rand=lambda: 0.0) >= 300


def test_retry_after_is_honoured_up_to_its_own_cap():
    assert retry_delay(60, 1, NO_JITTER, retry_after=900) == 900
    assert retry_delay(60, 1, NO_JITTER, retry_after=10) == 120  # the backoff is longer
    assert retry_delay(60, 1, NO_JITTER, retry_after=10**9) == 86400


def test_the_next_attempt_is_kept_on_the_record_and_cleared_by_a_success():
    src = Source(name="s", type="feed", consecutive_failures=2)
    at = schedule_next(src, Outcome(error_kind="timeout", error="x"), 300, NO_JITTER, T)
    assert at == src.next_attempt_at == T + timedelta(seconds=1200)
    src.consecutive_failures = 0
    assert schedule_next(src, Outcome(), 300, NO_JITTER, T) is None and src.next_attempt_at is None
