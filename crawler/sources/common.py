"""Pieces the built-in source types share: fetch options from config, errors to results."""

from __future__ import annotations

from crawler.base import CollectContext, CollectResult, SourceConfig, SourceState
from crawler.http import FetchError, FetchOptions


def fetch_options(config: SourceConfig, context: CollectContext, state: SourceState | None = None,
                  allowed_domains: list[str] | None = None) -> FetchOptions:
    return FetchOptions(
        user_agent=context.user_agent,
        timeout=config.timeout,
        max_bytes=config.max_bytes,
        max_decompressed=max(config.max_bytes * 5, 50 * 1024 * 1024),
        max_redirects=getattr(config, "max_redirects", 5),
        allowed_domains=list(allowed_domains or []),
        allow_private=bool(getattr(config, "allow_private", False)),
        obey_robots=config.obey_robots,
        delay=config.delay,
        per_host=getattr(config, "concurrency", 2),
        etag=state.etag if state else None,
        last_modified=state.last_modified if state else None,
    )


def failed(state: SourceState, kind: str, message: str, **kw) -> CollectResult:
    return CollectResult(state=state, error_kind=kind, error=message, **kw)


def from_fetch_error(state: SourceState, e: FetchError, **kw) -> CollectResult:
    return failed(state, e.kind, e.message, **kw)
