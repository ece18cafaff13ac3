"""Spikes against a rolling baseline: the arithmetic shared by ``sentinel stats`` (which
lists the period's spikes) and the early warning (which tells the office of the newest).

The baseline of an hour is the same hour of the day on each of the ``baseline_days``
days before it (10:00-11:00 today against 10:00-11:00 on the past seven days): campus
talk follows the day (quiet at night, busy at lunch), so comparing with the hour just
before would call every morning a spike.

An hour is a spike of
- **mentions** when it has at least ``min_posts`` posts naming the college and at least
  ``factor`` times its baseline (the mean of those days, counted as at least 1 post);
- **negative share** when at least ``min_negative`` of its mentions are negative and the
  negative share is at least ``share_rise`` above its baseline share (the negative posts
  of those same hours over their mentions; 0 when they had none).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

MENTIONS = "mentions"
NEGATIVE_SHARE = "negative_share"


@dataclass(frozen=True)
class SpikeRules:
    """When an hour counts as a spike (see the module docstring)."""

    baseline_days: int = 7
    factor: float = 3.0
    min_posts: int = 5
    min_negative: int = 4
    share_rise: float = 0.3


@dataclass(frozen=True)
class Spike:
    """One spike: the hour it began (UTC), what rose, its value and the baseline."""

    at: datetime
    metric: str  # mentions | negative_share
    value: float
    baseline: float


def hour_of(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


class Series:
    """The times of the posts naming the college, and which were negative, for counting
    any window quickly."""

    def __init__(self, rows: list[tuple[datetime, bool]]):
        rows = sorted(rows, key=lambda r: r[0])
        self.times = [t for t, _ in rows]
        self._neg = [0]
        for _, neg in rows:
            self._neg.append(self._neg[-1] + bool(neg))

    def count(self, a: datetime, b: datetime) -> tuple[int, int]:
        """(mentions, negative mentions) in ``[a, b)``."""
        i, j = bisect_left(self.times, a), bisect_left(self.times, b)
        return j - i, self._neg[j] - self._neg[i]


def baseline(s: Series, a: datetime, b: datetime, rules: SpikeRules) -> tuple[float, float]:
    """(mean mentions, negative share) of the same window on the days before."""
    mentions = negative = 0
    for d in range(1, rules.baseline_days + 1):
        m, n = s.count(a - timedelta(days=d), b - timedelta(days=d))
        mentions, negative = mentions + m, negative + n
    return mentions / rules.baseline_days, (negative / mentions if mentions else 0.0)


def check(s: Series, a: datetime, b: datetime, rules: SpikeRules) -> list[Spike]:
    """The spikes of the window ``[a, b)`` (at most one per metric), dated ``a``."""
    out: list[Spike] = []
    value, neg = s.count(a, b)
    base, base_share = baseline(s, a, b, rules)
    if value >= rules.min_posts and value >= rules.factor * max(base, 1.0):
        out.append(Spike(a, MENTIONS, float(value), round(base, 2)))
    if value and neg >= rules.min_negative:
        share = neg / value
        if share >= base_share + rules.share_rise:
            out.append(Spike(a, NEGATIVE_SHARE, round(share, 3), round(base_share, 3)))
    return out


def spikes(s: Series, since: datetime, now: datetime, rules: SpikeRules) -> list[Spike]:
    """The spikes of each clock hour from ``since`` to ``now`` (the current hour so far
    counts)."""
    out: list[Spike] = []
    hour = hour_of(since)
    while hour <= now:
        out.extend(check(s, hour, hour + timedelta(hours=1), rules))
        hour += timedelta(hours=1)
    return out
