"""The records of the system, as typed SQLAlchemy models.

Records are nouns: a Source is fetched into Snapshots, which yield Posts; a Post gets
a Match; matched posts gather into an Incident with its append-only IncidentEvents,
checklist items, evidence (snapshots, and EvidenceFiles people hand in) and escalations,
the units that follow it, its Replies, its Meeting and its TakedownChecks; Users act on
it; every message goes through the Outbox.
Schema changes go through an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Source(Base):
    """A configured source and its fetch state and health (changedetection-style)."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    # Conditional GET and other per-source state the fetcher keeps between runs.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Health.
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error_kind: Mapped[str | None] = mapped_column(String(50))
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_fetched: Mapped[int] = mapped_column(default=0)
    last_new: Mapped[int] = mapped_column(default=0)
    last_seen: Mapped[int] = mapped_column(default=0)
    last_warning: Mapped[str | None] = mapped_column(Text)
    robots_obeyed: Mapped[bool] = mapped_column(default=True)
    last_new_at: Mapped[datetime | None]
    # Pages of the last run that showed no text (empty, 加载中, 请开启 JavaScript, a login
    # wall): a source whose pages are all like this is not seeing content.
    last_empty: Mapped[int] = mapped_column(default=0, server_default="0")
    # Backoff: a failing source is not tried again before this (storage/backoff.py).
    next_attempt_at: Mapped[datetime | None]


class Snapshot(Base):
    """A response exactly as fetched: the evidence. Never modified after insert."""

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(default=200)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    compression: Mapped[str] = mapped_column(String(10), default="zlib")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    truncated: Mapped[bool] = mapped_column(default=False)
    encoding: Mapped[str | None] = mapped_column(String(40))
    decode_error: Mapped[str | None] = mapped_column(Text)


class Post(Base):
    """One piece of published content, unique by canonical URL."""

    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    original_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    replies: Mapped[int | None]
    views: Mapped[int | None]
    likes: Mapped[int | None]
    # Near-duplicate link: the earliest post of the same text (a repost or a copy).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    source: Mapped[Source] = relationship()
    snapshot: Mapped[Snapshot | None] = relationship()
    match: Mapped[Match | None] = relationship(back_populates="post", uselist=False)


class PostVersion(Base):
    """An earlier text of an edited post; its snapshot stays as it was."""

    __tablename__ = "post_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("post_id", "version"),)


class Match(Base):
    """The matcher's verdict on a post (the latest one; backtests compare against it)."""

    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    watchlist_version: Mapped[str] = mapped_column(String(64), default="")
    mentioned: Mapped[bool] = mapped_column(default=False, index=True)
    alert: Mapped[bool] = mapped_column(default=False, index=True)
    score: Mapped[int] = mapped_column(default=0)
    severity: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(20))
    entities: Mapped[list[Any]] = mapped_column(default=list)
    hits: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The post's polarity (core.vocabulary.Polarity key, score -1..1); None for posts that
    # do not name the college, and for matches stored before polarity existed.
    sentiment: Mapped[str | None] = mapped_column(String(10), index=True)
    sentiment_score: Mapped[float | None] = mapped_column(Float)

    post: Mapped[Post] = relationship(back_populates="match")


class User(Base):
    """A person: office staff, a leader, or a unit's information manager."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="office")  # office | leader | unit
    email: Mapped[str | None] = mapped_column(String(320))
    unit: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The console password as an argon2 hash (never the password itself).
    password_hash: Mapped[str | None] = mapped_column(String(200))


class Incident(Base):
    """An incident ticket: one story, worked through the plan's steps."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="reported", index=True)
    category: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(4))
    score: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    last_post_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    # Rapid assessment (研判): what people confirm or change.
    cause: Mapped[str | None] = mapped_column(Text)
    state_desc: Mapped[str | None] = mapped_column(Text)
    development: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    # What clustering and tracking use: the story's key terms and sites.
    terms: Mapped[list[Any]] = mapped_column(default=list)
    post_count: Mapped[int] = mapped_column(default=0)
    site_count: Mapped[int] = mapped_column(default=0)
    reopened_count: Mapped[int] = mapped_column(default=0)
    reporter: Mapped[str | None] = mapped_column(String(100))
    # 关联事件: the closed incident whose story came back after the reopening period.
    related_to_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))

    assignee: Mapped[User | None] = relationship()
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id"
    )


class IncidentPost(Base):
    """A post that belongs to an incident (a post belongs to one incident at most)."""

    __tablename__ = "incident_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified: Mapped[bool] = mapped_column(default=False)


class IncidentEvent(Base):
    """Append-only log of everything that happened to an incident: who, when, what."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")


class ChecklistItem(Base):
    """One action of the category's playbook, with its deadline."""

    __tablename__ = "checklist_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    overdue_alerted_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("incident_id", "key"),)


class EvidenceFile(Base):
    """A file handed in as evidence (a screenshot of a chat group, a photo, a PDF),
    stored once by its SHA-256, exactly as received. Never modified after insert."""

    __tablename__ = "evidence_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceItem(Base):
    """Evidence attached to an incident with its hash: a post's snapshot as fetched
    (category 3, a report's page) or a file someone handed in."""

    __tablename__ = "evidence_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(100), default="system")
    note: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"))
    filename: Mapped[str | None] = mapped_column(String(300))  # the name it was handed in under
    __table_args__ = (UniqueConstraint("incident_id", "snapshot_id"),)


class IncidentUnit(Base):
    """A unit (单位) that follows an incident: its information manager sees it, adds
    notes and files to it, and may draft its reply."""

    __tablename__ = "incident_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    via: Mapped[str] = mapped_column(String(20))  # core.vocabulary.UnitSource
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(100), default="system")
    __table_args__ = (UniqueConstraint("incident_id", "unit"),)


class Reply(Base):
    """One version of an incident's reply (统一回复): drafted, approved or sent back by
    a leader, published. Every step is also in the incident's log."""

    __tablename__ = "replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))  # core.vocabulary.ReplyState
    drafted_by: Mapped[str] = mapped_column(String(100))
    drafted_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    published_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime | None]
    published_url: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("incident_id", "version"),)


class Meeting(Base):
    """The offline Q&A meeting (网下答疑会) held for an incident, as a record."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    held_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(Text)
    attendees: Mapped[str] = mapped_column(Text)
    questions: Mapped[str] = mapped_column(Text)
    answers: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TakedownCheck(Base):
    """One re-fetch of an offending post after its source was dealt with: is it gone?
    Never modified after insert."""

    __tablename__ = "takedown_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(20))  # core.vocabulary.TakedownState
    detail: Mapped[str | None] = mapped_column(Text)


class Escalation(Base):
    """One level of reporting (逐级报告) sent for an incident, and its acknowledgement."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    level: Mapped[int] = mapped_column(default=1)
    groups: Mapped[list[Any]] = mapped_column(default=list)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    ack_due_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("incident_id", "level"),)


class OutboxMessage(Base):
    """A notification, rendered once and stored before any attempt to send it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # idempotency key
    kind: Mapped[str] = mapped_column(String(40))  # new_incident, escalation, digest, ...
    channel: Mapped[str] = mapped_column(String(40), default="email")
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the rendered message, sent as is
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class Silence(Base):
    """Hold back notifications for an incident, a source or a term until ``ends_at``."""

    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(20))  # incident | source | term
    value: Mapped[str] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100), default="office")
    reason: Mapped[str | None] = mapped_column(Text)


class DaemonLock(Base):
    """One row per running daemon; a second daemon on the same database refuses to start."""

    __tablename__ = "daemon_lock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The running daemon's configuration: a broken sentinel.yaml it keeps out, and when it
    # loaded the one it runs with (sentinel/reload.py).
    config_error: Mapped[str | None] = mapped_column(Text)
    config_loaded_at: Mapped[datetime | None]


class CrawlWorker(Base):
    """A ``sentinel worker`` process taking site crawls from the crawl queue: what
    ``sentinel status`` lists under workers."""

    __tablename__ = "crawl_workers"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None]
    pages: Mapped[int] = mapped_column(default=0)  # pages fetched, all runs together
    posts: Mapped[int] = mapped_column(default=0)  # posts found in them
    run: Mapped[str | None] = mapped_column(String(300))  # the run it is in now
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


# The one-tap links mailed to people (storage/signed_links.py) belong to the same schema;
# imported last because they refer to the models above.
from storage import signed_links as _signed_links  # noqa: F401

# The console's sessions (storage/web_sessions.py) belong to the same schema; imported last
# because they refer to the models above.
from storage import web_sessions as _web_sessions  # noqa: F401
