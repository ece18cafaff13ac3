"""What every source type is and what it produces.

Data flows Source → ``FetchResult`` (bytes and headers exactly as received) →
``RawPost`` (what the page or feed says) → stored ``Post``. A source type's
``collect(state)`` is a generator, like a Scrapy callback: it yields ``Batch``es of
posts as soon as it has them (a crawl streams them out of its child process) and
returns the run's ``Outcome``. Nothing here touches the database: the pipeline stores
and matches each batch as it comes.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

from core.durations import Duration, DurationOrZero


class SourceConfig(BaseModel):
    """Keys every source has. Each source type adds its own keys in its module."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique name, used in status, posts and --source.")
    label: str | None = Field(
        None,
        description="The name mails, digests and reports show for the source, e.g. 校园论坛; "
        "default: its name.",
    )
    type: str = Field(description="The source type: feed, site, search or a plug-in's name.")
    interval: Duration = Field(300, description="How often to poll: 30s, 5m, 2h or seconds.")
    jitter: float = Field(0.1, ge=0, le=1, description="Random spread of the interval (0–1).")
    enabled: bool = Field(True, description="Set false to keep a source configured but idle.")
    obey_robots: bool = Field(True, description="Obey robots.txt; turning it off shows in status.")
    timeout: Duration = Field(
        30,
        description="Longest one request may take, from the connect to the last byte (redirects included).",
    )
    max_bytes: int = Field(10 * 1024 * 1024, description="Largest response body kept, in bytes.")
    delay: DurationOrZero = Field(0.5, description="Seconds between requests to the same host.")
    allow_private: bool = Field(
        False,
        description="Let a redirect from another host lead to a loopback or private (intranet) "
        "address; off by default, so a site cannot steer the crawler inside the network.",
    )

    @property
    def crawls_pages(self) -> bool:
        """Runs the spider in a child process (a site; a search with ``format: site``):
        the daemon gives such runs their own workers, apart from the quick feed polls."""
        return False


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

    def copy(self) -> SourceState:
        return SourceState(etag=self.etag, last_modified=self.last_modified, data=dict(self.data))


@dataclass
class Batch:
    """Posts a run has found so far, handed over while the run goes on."""

    posts: list[RawPost] = field(default_factory=list)
    # Fetches kept as evidence although they produced no post (e.g. an undecodable
    # body: its raw bytes are kept with ``decode_error`` set).
    snapshots: list[FetchResult] = field(default_factory=list)


@dataclass
class Outcome:
    """How one collection run of one source ended: ``collect``'s return value."""

    state: SourceState = field(default_factory=SourceState)
    fetched: int = 0  # responses received (a 304 counts)
    requests: int = 0  # HTTP requests made, robots.txt included where known
    not_modified: bool = False
    warnings: list[str] = field(default_factory=list)
    error_kind: str | None = None  # a core.vocabulary.FetchErrorKind key
    error: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (429, Retry-After)
    # Posts stored by others for this run (crawl workers): {"new", "changed", "seen"}.
    stored: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Batches = Generator[Batch, None, Outcome]
"""What ``SourceType.collect`` returns: batches as they come, then the ``Outcome``."""


@dataclass
class CollectContext:
    """What a source may need from the outside: search terms and identity."""

    user_agent: str = "sentinel/0.1 (+public-opinion monitor)"
    queries: list[str] = field(default_factory=list)  # entity names, for search sources
    timezone: str = "Asia/Shanghai"
    # Set when the run must end now (the daemon stops): fetches end at once
    # (``crawler.deadline.cancel``), a crawl child is stopped.
    cancel: threading.Event | None = None
    # A crawler.queue.CrawlQueue: site crawls go to the crawl workers through Redis.
    crawl_queue: Any = None
    # Chromium for ``render: true`` (``browser_path`` in sentinel.yaml); None: find it.
    browser_path: str | None = None


class SourceType(ABC):
    """A kind of source. Subclasses set ``name`` and ``config_model`` and implement
    ``collect``; an entry point in the ``sentinel.sources`` group (see
    ``crawler.registry``) makes the type usable in ``sentinel.yaml``."""

    name: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]

    def __init__(self, config: SourceConfig, *, context: CollectContext):
        self.config = config
        self.context = context

    @abstractmethod
    def collect(self, state: SourceState) -> Batches:
        """Yield batches of posts as they are found; return the run's ``Outcome``.

        Never raise for a network or content problem: report it in the outcome's
        ``error_kind``/``error`` so one failing source stops nothing else. The consumer
        may stop early (``close()``): release what the run holds in ``finally``."""


class Collection:
    """One run of a source, for the loop that consumes it::

        with Collection(source.collect(state)) as run:
            for batch in run:
                store(batch)
        run.outcome

    Leaving the ``with`` early (an exception in the loop) closes the source's
    generator, so a crawl child process is never left running behind us."""

    def __init__(self, batches: Batches):
        self._batches = batches
        self.outcome: Outcome | None = None

    def __iter__(self) -> Iterator[Batch]:
        self.outcome = yield from self._batches

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self._batches.close()


@dataclass
class CollectResult(Outcome):
    """A whole run at once: every batch's posts and snapshots, and the outcome."""

    posts: list[RawPost] = field(default_factory=list)
    snapshots: list[FetchResult] = field(default_factory=list)
    batches: int = 0


def collect_all(source: SourceType, state: SourceState | None = None) -> CollectResult:
    """Run ``source`` to the end and gather what it yields (tests, benchmarks, checks)."""
    result = CollectResult()
    with Collection(source.collect(state or SourceState())) as run:
        for batch in run:
            result.batches += 1
            result.posts += batch.posts
            result.snapshots += batch.snapshots
    for f in fields(Outcome):
        setattr(result, f.name, getattr(run.outcome, f.name))
    return result
