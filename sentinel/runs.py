"""What a collection run and a matching pass did: the records ``sentinel poll`` prints,
the daemon's metrics count and the scheduler reads (a failing source's next attempt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SourceRun:
    """What one collection pass of one source did (printed by ``sentinel poll``)."""

    source: str
    fetched: int = 0
    new: int = 0
    changed: int = 0
    seen: int = 0
    empty: int = 0  # pages that showed no text (crawler.placeholder)
    not_modified: bool = False
    error_kind: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    next_attempt_at: datetime | None = None  # a failing source's backoff (storage/backoff.py)
    processed: ProcessStats = field(
        default_factory=lambda: ProcessStats()
    )  # matched batch by batch

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
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
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
