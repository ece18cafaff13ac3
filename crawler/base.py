"""What every source type produces, and the registry of source types.

Data flows Source → ``FetchResult`` (bytes and headers exactly as received) →
``RawPost`` (what the page or feed says) → stored ``Post``. Nothing here touches the
database: the pipeline stores what a source returns.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.durations import Duration, DurationOrZero


class SourceConfig(BaseModel):
    """Keys every source has. Each source type adds its own keys in its module."""

    model_config = ConfigDict(extra="forbid")
    type_name: ClassVar[str] = ""

    name: str = Field(description="Unique name, used in status, posts and --source.")
    type: str = Field(description="feed, site or search.")
    interval: Duration = Field(300, description="How often to poll: 30s, 5m, 2h or seconds.")
    jitter: float = Field(0.1, ge=0, le=1, description="Random spread of the interval (0–1).")
    enabled: bool = Field(True, description="Set false to keep a source configured but idle.")
    obey_robots: bool = Field(True, description="Obey robots.txt; turning it off shows in status.")
    timeout: Duration = Field(
        30, description="Longest one request may take, from the connect to the last byte (redirects included)."
    )
    max_bytes: int = Field(10 * 1024 * 1024, description="Largest response body kept, in bytes.")
    delay: DurationOrZero = Field(0.5, description="Seconds between requests to the same host.")
    allow_private: bool = Field(
        False,
        description="Let a redirect from another host lead to a loopback or private (intranet) "
        "address; off by default, so a site cannot steer the crawler inside the network.",
    )

    def next_delay(self) -> float:
        """The interval with its jitter applied."""
        return self.interval * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass
class FetchResult:
    """One HTTP response as received: the raw snapshot's content."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    truncated: bool = False
    encoding: str | None = None
    decode_error: str | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class RawPost:
    """A post as a source found it, before storage."""

    url: str
    title: str
    text: str
    author: str | None = None
    published_at: datetime | None = None
    replies: int | None = None
    views: int | None = None
    likes: int | None = None
    snapshot: FetchResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The one intake of crawled text: no escape sequence or control character gets
        # past here into the database, a terminal or a mail header.
        from crawler.sanitize import clean_line, clean_text

        self.url = clean_line(self.url)
        self.title = clean_line(self.title)
        self.text = clean_text(self.text)
        if self.author is not None:
            self.author = clean_line(self.author) or None


@dataclass
class SourceState:
    """What a source keeps between runs (conditional GET and free-form state)."""

    etag: str | None = None
    last_modified: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class CollectResult:
    """The outcome of one collection run of one source."""

    posts: list[RawPost] = field(default_factory=list)
    state: SourceState = field(default_factory=SourceState)
    fetched: int = 0  # responses received (a 304 counts)
    not_modified: bool = False
    warnings: list[str] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    # Fetches kept as evidence although they produced no post (e.g. an undecodable
    # body: its raw bytes are kept with ``decode_error`` set).
    snapshots: list[FetchResult] = field(default_factory=list)
    streamed: int = 0  # posts already handed to CollectContext.on_posts (not in ``posts``)
    requests: int = 0  # HTTP requests made, robots.txt included where known

    @property
    def ok(self) -> bool:
        return self.error is None


class SourceType(ABC):
    """A kind of source. Subclasses set ``name`` and ``config_model`` and implement
    ``collect``; registering makes the type usable in ``sentinel.yaml``."""

    name: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]

    def __init__(self, config: SourceConfig, *, context: CollectContext):
        self.config = config
        self.context = context

    @abstractmethod
    def collect(self, state: SourceState) -> CollectResult:
        """Fetch and parse; never raise for a network or content problem: report it in
        the result's ``error_kind``/``error`` so one failing source stops nothing else."""


@dataclass
class CollectContext:
    """What a source may need from the outside: search terms and identity."""

    user_agent: str = "sentinel/0.1 (+public-opinion monitor)"
    queries: list[str] = field(default_factory=list)  # entity names, for search sources
    timezone: str = "Asia/Shanghai"
    # When set, a source that can stream (the site spider) hands posts over in batches
    # while it is still crawling, and returns a result without them: storage and
    # matching then run beside the crawl instead of after it.
    on_posts: Callable[[list[RawPost]], None] | None = None


REGISTRY: dict[str, type[SourceType]] = {}


def register(cls: type[SourceType]) -> type[SourceType]:
    """Class decorator: make a source type available under its ``name``."""
    REGISTRY[cls.name] = cls
    return cls


def source_types() -> dict[str, type[SourceType]]:
    """All registered source types (the built-ins are imported on first use)."""
    import crawler.sources  # noqa: F401  (registers the built-ins)

    return REGISTRY

