"""Web sites (news sites, Discuz! boards, Tieba-style lists) crawled by the one generic
Scrapy spider, configured in YAML. Each run is a child process (``crawler.child``);
posts are yielded in batches while it crawls, so storage and matching run beside it."""

from __future__ import annotations

import builtins
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from core.vocabulary import FetchErrorKind
from crawler.base import (
    Batch,
    Batches,
    CollectContext,
    FetchResult,
    Outcome,
    RawPost,
    SourceConfig,
    SourceState,
    SourceType,
)
from crawler.child import CrawlCancelled, CrawlChild
from crawler.hosts import own_hosts
from crawler.options import CrawlOptions
from crawler.urls import canonical

ROBOTS_OFF = "本来源不遵守 robots.txt（obey_robots: false）"

STREAM_BATCH = 100  # posts per batch while streaming
STREAM_SECONDS = 2.0  # ... or fewer, when they have waited this long


class SiteConfig(CrawlOptions, SourceConfig):
    """A web site crawled by the configured spider."""

    type: Literal["site"] = Field("site", description="site")
    urls: builtins.list[str] = Field(
        min_length=1,
        description="Start URLs: list pages, or article pages when there is no `list`.",
    )

    @property
    def crawls_pages(self) -> bool:
        return True


def job_for(cfg: CrawlOptions, context: CollectContext, urls: list[str]) -> dict[str, Any]:
    """The plain-data job the child process runs (``cfg`` is a site or search config)."""
    allowed = [*cfg.allowed_domains, *own_hosts(urls)]
    return {
        "type": getattr(cfg, "type", "site"),
        "urls": urls,
        "list": cfg.list.model_dump() if cfg.list else None,
        "fields": cfg.fields.model_dump(),
        "allowed_domains": allowed,
        "allow_private": cfg.allow_private,
        "encoding": cfg.encoding,
        "user_agent": context.user_agent,
        "timezone": context.timezone,
        "obey_robots": cfg.obey_robots,
        "timeout": cfg.timeout,
        "max_bytes": cfg.max_bytes,
        "max_redirects": cfg.max_redirects,
        "concurrency": cfg.concurrency,
        "delay": cfg.delay,
        "max_requests": cfg.max_requests,
        "render": cfg.render,
        "render_wait": cfg.render_wait,
        "render_max_pages": cfg.render_max_pages,
        "browser_path": context.browser_path,
    }


def _snapshot(rec: dict) -> FetchResult:
    return FetchResult(
        url=rec["url"],
        final_url=rec["final_url"],
        status=rec["status"],
        headers=rec["headers"],
        body=rec["body"],
        fetched_at=rec["fetched_at"],
        encoding=rec.get("encoding"),
        decode_error=rec.get("decode_error"),
        truncated=bool(rec.get("truncated")),
    )


def _raw_post(rec: dict) -> RawPost:
    f = rec["fields"]
    return RawPost(
        url=canonical(rec["post_url"]),
        title=(f.get("title") or "").strip(),
        text=f.get("body") or "",
        author=f.get("author") or None,
        published_at=f.get("published_at"),
        replies=f.get("replies"),
        views=f.get("views"),
        snapshot=_snapshot(rec),
        extra={"from_list_row": True} if rec.get("from_row") else {},
    )


def _kind_label(kind: str, message: str) -> str:
    """An error kind in the office's words; Scrapy's own (``ignored`` for too many
    redirects) by what it means."""
    known = FetchErrorKind.get(kind)
    if known is None:
        known = (
            FetchErrorKind.REDIRECT
            if "redirect" in (message or "").lower()
            else FetchErrorKind.CRAWLER
        )
    return known.label


def merge_rows(posts: list[RawPost]) -> list[RawPost]:
    """One post per canonical URL; a row and its article page both seen: the article."""
    seen: dict[str, RawPost] = {}
    for p in posts:
        if p.url not in seen or (
            seen[p.url].extra.get("from_list_row") and not p.extra.get("from_list_row")
        ):
            seen[p.url] = p
    return list(seen.values())


@dataclass
class _Tally:
    """What the child reported besides posts: errors, counts, the final stats."""

    state: SourceState
    posts: int = 0
    cut: int = 0
    errors: list[dict] = field(default_factory=list)
    outcome: Outcome = field(init=False)

    def __post_init__(self) -> None:
        self.outcome = Outcome(state=self.state.copy())

    def record(self, kind: str, rec: dict) -> None:
        if kind == "error":
            self.errors.append(rec)
        elif kind == "undecodable":
            message = rec.get("decode_error") or "undecodable"
            self.errors.append({"url": rec["url"], "kind": "decode", "message": message})
        elif kind == "stats":
            o = self.outcome
            o.requests = int(rec.get("requests", 0))
            o.fetched = int(rec.get("responses", 0))
            o.state.data["last_crawl_seconds"] = rec.get("elapsed")
            if rec.get("render_skipped"):
                o.warnings.append(
                    f"已达每次渲染页数上限（render_max_pages: {rec.get('render_max_pages')}），"
                    f"另有 {rec['render_skipped']} 个页面留待下次采集"
                )
            if rec.get("robots_forbidden"):
                o.warnings.append(f"robots.txt 禁止采集 {rec['robots_forbidden']} 个页面")

    def finish(self) -> Outcome:
        """The outcome of a crawl that ran to its end: failed when errors came and no post."""
        o = self.outcome
        if self.cut:
            o.warnings.append(f"{self.cut} 个页面超过 max_bytes，只保存了前面部分")
        for e in self.errors[:20]:
            o.warnings.append(f"{_kind_label(e['kind'], e['message'])}：{e['url']}：{e['message']}")
        if self.errors and not self.posts:
            first = self.errors[0]
            o.error_kind = FetchErrorKind.parse(_kind_label(first["kind"], first["message"])).value
            o.error = f"{first['url']}: {first['message']}" + (
                f"（另有 {len(self.errors) - 1} 个错误）" if len(self.errors) > 1 else ""
            )
            asked = [e["retry_after"] for e in self.errors if e.get("retry_after")]
            o.retry_after = max(asked) if asked else None
        return o

    def stopped(self, kind: str, message: str) -> Outcome:
        """The outcome of a crawl that did not finish (timeout, the child failed)."""
        warnings = [f"采集中止前已取得 {self.posts} 条帖子"] if self.posts else []
        return Outcome(state=self.state, error_kind=kind, error=message, warnings=warnings)


def crawl(
    cfg: CrawlOptions, context: CollectContext, state: SourceState, urls: list[str]
) -> Batches:
    """Crawl ``urls`` with the spider configured by ``cfg``, yielding posts in batches;
    with a crawl queue (``crawl_queue`` in sentinel.yaml), the crawl workers do it and
    store the posts themselves (``crawler.queue``)."""
    job = job_for(cfg, context, urls)
    if cfg.render and context.crawl_queue is None:
        from crawler.render import BrowserMissing, find_browser

        try:
            find_browser(context.browser_path)
        except BrowserMissing as e:
            return Outcome(state=state, error_kind=FetchErrorKind.RENDER.value, error=str(e))
    if context.crawl_queue is not None:
        outcome = yield from context.crawl_queue.crawl(
            cfg.name, job, cfg.crawl_timeout, context.cancel, state
        )
    else:
        outcome = yield from crawl_job(job, cfg.crawl_timeout, state, cancel=context.cancel)
    if not cfg.obey_robots:
        outcome.warnings.append(ROBOTS_OFF)
    return outcome


def crawl_job(
    job: dict[str, Any], timeout: float, state: SourceState, cancel: threading.Event | None = None
) -> Batches:
    """Run one spider job in a child process here, yielding posts in batches.

    With list rows (``list.row``) the posts come in one batch at the end: a row and its
    article page are merged first, so a post is not stored twice in two versions."""
    streaming = not (job.get("list") or {}).get("row")
    tally = _Tally(state)
    posts: list[RawPost] = []
    snapshots: list[FetchResult] = []
    since = time.monotonic()
    try:
        with CrawlChild(job, timeout=timeout, cancel=cancel) as child:
            for kind, rec in child:
                if kind == "page":
                    post = _raw_post(rec)
                    tally.posts += 1
                    tally.cut += bool(post.snapshot and post.snapshot.truncated)
                    posts.append(post)
                elif kind == "undecodable":
                    snapshots.append(_snapshot(rec))
                tally.record(kind, rec)
                due = len(posts) >= STREAM_BATCH or (
                    bool(posts) and time.monotonic() - since > STREAM_SECONDS
                )
                if streaming and due:
                    yield Batch(posts=posts, snapshots=snapshots)
                    posts, snapshots, since = [], [], time.monotonic()
    except subprocess.TimeoutExpired:
        outcome = tally.stopped("timeout", f"整个采集未能在 {timeout:g} 秒内完成（crawl_timeout）")
    except CrawlCancelled:
        outcome = tally.stopped("cancelled", "采集因守护进程停止而中止")
    except (RuntimeError, OSError) as e:
        outcome = tally.stopped("crawler", str(e))
    else:
        outcome = tally.finish()
    if not streaming:
        posts = merge_rows(posts)
    if posts or snapshots:  # what came before a failure is kept too
        yield Batch(posts=posts, snapshots=snapshots)
    return outcome


class SiteSource(SourceType):
    """Crawls list pages and article pages with the configured spider."""

    name = "site"
    config_model = SiteConfig

    def collect(self, state: SourceState) -> Batches:
        cfg: SiteConfig = self.config  # type: ignore[assignment]
        return (yield from crawl(cfg, self.context, state, cfg.urls))
