"""Pieces the built-in source types share: fetch options from config, errors to outcomes."""

from __future__ import annotations

from crawler.base import CollectContext, Outcome, SourceConfig, SourceState
from crawler.http import FetchError, FetchOptions
from crawler.options import CrawlOptions, HostOptions


def fetch_options(
    config: SourceConfig | HostOptions,
    context: CollectContext,
    state: SourceState | None = None,
    allowed_domains: list[str] | None = None,
) -> FetchOptions:
    """Our HTTP layer's options for one request of a feed or search source."""
    return FetchOptions(
        user_agent=context.user_agent,
        timeout=config.timeout,
        max_bytes=config.max_bytes,
        max_decompressed=max(config.max_bytes * 5, 50 * 1024 * 1024),
        max_redirects=config.max_redirects,
        allowed_domains=list(allowed_domains or []),
        allow_private=config.allow_private,
        obey_robots=config.obey_robots,
        delay=config.delay,
        per_host=config.concurrency if isinstance(config, CrawlOptions) else 2,
        etag=state.etag if state else None,
        last_modified=state.last_modified if state else None,
        cancel=context.cancel,
    )


def from_fetch_error(state: SourceState, e: FetchError, **kw) -> Outcome:
    """A run that failed on its fetch: the error's kind and message, the state unchanged."""
    return Outcome(state=state, error_kind=e.kind, error=e.message, **kw)
