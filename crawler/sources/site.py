"""Web sites (news sites, Discuz! boards, Tieba-style lists) crawled by the one generic
Scrapy spider, configured in YAML. Each collection runs Scrapy in a child process."""

from __future__ import annotations

import builtins
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.durations import Duration
from crawler.base import (
    CollectContext,
    CollectResult,
    FetchResult,
    RawPost,
    SourceConfig,
    SourceState,
    SourceType,
    register,
)
from crawler.hosts import own_hosts
from crawler.urls import canonical

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class FieldSelectors(BaseModel):
    """Per-field selectors: CSS (``h1::text``, ``a::attr(href)``, ``td.t_f``) or XPath
    (starting with ``/``, ``./`` or ``(``). An element selector yields the element's
    readable text; several matches of ``body`` are joined, other fields take the first."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, description="The post's title; default: the page's <title>.")
    body: str | None = Field(
        None, description="The post's text; without it the main text is extracted automatically."
    )
    author: str | None = Field(None, description="The author's name.")
    published: str | None = Field(
        None, description='Publication time text ("2026-11-23 08:15", "3分钟前", "昨天 12:30").'
    )
    replies: str | None = Field(None, description="Reply count text ('22', '1.2万').")
    views: str | None = Field(None, description="View count text.")


class ListSpec(BaseModel):
    """How to walk list pages (a board, a news column, a Tieba list)."""

    model_config = ConfigDict(extra="forbid")
    item: str | None = Field(
        None, description="Selector of the links to posts, e.g. \"a.s.xst::attr(href)\" (within a row when `row` is set)."
    )
    next: str | None = Field(None, description='Selector of the next-page link, e.g. "a.nxt::attr(href)".')
    max_pages: int = Field(1, ge=1, le=1000, description="Most list pages walked per run (start page included).")
    row: str | None = Field(
        None,
        description="Selector of one post's row on the list page; each row becomes a post "
        "(its link from `item`, its fields from `fields` below, relative to the row).",
    )
    fields: FieldSelectors = Field(
        default_factory=FieldSelectors, description="Selectors within a row (with `row`)."
    )
    follow: bool | None = Field(
        None, description="Also visit each item link as an article page (default: yes without `row`, no with it)."
    )


class SiteConfig(SourceConfig):
    """A web site crawled by the configured spider."""

    type: Literal["site"] = Field("site", description="site")
    urls: builtins.list[str] = Field(min_length=1, description="Start URLs: list pages, or article pages when there is no `list`.")
    list: ListSpec | None = Field(None, description="List pages: item links, pagination, rows.")
    fields: FieldSelectors = Field(
        default_factory=FieldSelectors, description="Selectors on article pages; none: automatic extraction."
    )
    allowed_domains: builtins.list[str] = Field(
        default_factory=lambda: [],  # noqa: PIE807 - `list` is a field name in this class
        description="Hosts the spider may visit or be redirected to (and their subdomains; host:port for "
        "another port than 80/443); the start URLs' hosts are always allowed."
    )
    encoding: str | None = Field(
        None, description="Force a page encoding (gbk, big5, utf-8) when a site lies about it; default: detect."
    )
    concurrency: int = Field(2, ge=1, le=32, description="Requests at once to one host.")
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed per request.")
    max_requests: int = Field(500, ge=1, description="Most pages fetched per run (a safety stop).")
    crawl_timeout: Duration = Field(600, description="Longest a whole run may take (30s, 10m, ...).")

    @field_validator("encoding")
    @classmethod
    def _enc(cls, v):
        if v is None:
            return v
        from crawler.encoding import normalise_label

        if normalise_label(v) is None:
            raise ValueError(f"unknown encoding '{v}' (e.g. gbk, gb18030, big5, utf-8)")
        return v


def job_for(cfg: SiteConfig, context: CollectContext, urls: list[str] | None = None) -> dict[str, Any]:
    """The plain-data job the child process runs."""
    urls = urls or cfg.urls
    allowed = [*cfg.allowed_domains, *own_hosts(urls)]
    return {
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
    }


def run_crawl(job: dict[str, Any], timeout: float = 600,
              on_record: Callable[[str, dict], None] | None = None) -> list[tuple[str, dict]]:
    """Run the spider on ``job`` in a child process; return its records. With
    ``on_record``, each record is handed over as soon as the child writes it (through a
    pipe drained by a reader thread, so the crawl never waits for the caller) and the
    returned list is empty. Raises ``subprocess.TimeoutExpired`` or ``RuntimeError`` when
    the child fails."""
    if on_record is None:
        records: list[tuple[str, dict]] = []
        _stream_crawl(job, timeout, lambda kind, rec: records.append((kind, rec)))
        return records
    _stream_crawl(job, timeout, on_record)
    return []


def _stream_crawl(job: dict[str, Any], timeout: float, on_record: Callable[[str, dict], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="sentinel-crawl-") as tmp:
        job_path = os.path.join(tmp, "job.pickle")
        with open(job_path, "wb") as fh:
            pickle.dump(job, fh)
        env = dict(os.environ)
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        read_fd, write_fd = os.pipe()
        with open(os.path.join(tmp, "stderr.txt"), "w+b") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.spider", job_path, f"fd:{write_fd}"],
                env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=err, pass_fds=(write_fd,),
            )
            os.close(write_fd)
            inbox: queue.SimpleQueue = queue.SimpleQueue()

            def reader() -> None:
                with os.fdopen(read_fd, "rb") as pipe:
                    while True:
                        try:
                            inbox.put(pickle.load(pipe))
                        except EOFError:
                            break
                        except (pickle.UnpicklingError, ValueError, OSError):
                            break  # a child killed mid-write: keep what was complete
                inbox.put(None)

            t = threading.Thread(target=reader, name="crawl-reader", daemon=True)
            t.start()
            deadline = time.monotonic() + timeout
            got = 0
            try:
                while True:
                    try:
                        item = inbox.get(timeout=max(0.1, deadline - time.monotonic()))
                    except queue.Empty:
                        item = ...
                    if item is None:
                        break
                    if item is ... or time.monotonic() > deadline:
                        raise subprocess.TimeoutExpired(proc.args, timeout)
                    got += 1
                    on_record(*item)
            except BaseException:
                # A timeout, or the receiver failed (e.g. the database went away): never
                # leave the spider running behind us.
                proc.kill()
                proc.wait()
                t.join(timeout=5)
                raise
            returncode = proc.wait()
            t.join(timeout=5)
            if returncode != 0 and not got:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                raise RuntimeError(f"the crawler process failed (exit {returncode}): {' | '.join(tail)}")


def _snapshot(rec: dict) -> FetchResult:
    return FetchResult(
        url=rec["url"], final_url=rec["final_url"], status=rec["status"], headers=rec["headers"],
        body=rec["body"], fetched_at=rec["fetched_at"], encoding=rec.get("encoding"),
        decode_error=rec.get("decode_error"), truncated=bool(rec.get("truncated")),
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


STREAM_BATCH = 100


def records_to_result(records: list[tuple[str, dict]], state: SourceState) -> CollectResult:
    """Posts, errors and counts from the child's records."""
    result = CollectResult(state=SourceState(etag=state.etag, last_modified=state.last_modified,
                                             data=dict(state.data)))
    errors: list[dict] = []
    pages = 0
    for kind, rec in records:
        if kind == "page":
            pages += 1
            result.posts.append(_raw_post(rec))
        elif kind == "undecodable":
            pages += 1
            result.snapshots.append(_snapshot(rec))
            errors.append({"url": rec["url"], "kind": "decode", "message": rec.get("decode_error") or "undecodable"})
        elif kind == "error":
            errors.append(rec)
        elif kind == "stats":
            result.requests = int(rec.get("requests", 0))
            result.fetched = int(rec.get("responses", 0))
            result.state.data["last_crawl_seconds"] = rec.get("elapsed")
            if rec.get("robots_forbidden"):
                result.warnings.append(f"robots.txt forbade {rec['robots_forbidden']} page(s)")
    cut = sum(1 for p in result.posts if p.snapshot and p.snapshot.truncated)
    if cut:
        result.warnings.append(f"{cut} page(s) were larger than max_bytes and were cut")
    # Unique posts by canonical URL (a row and its article page may both appear).
    seen: dict[str, RawPost] = {}
    for p in result.posts:
        if p.url not in seen or (seen[p.url].extra.get("from_list_row") and not p.extra.get("from_list_row")):
            seen[p.url] = p
    result.posts = list(seen.values())
    for e in errors[:20]:
        result.warnings.append(f"{e['kind']}: {e['url']}: {e['message']}")
    if errors and not result.posts:
        # Nothing came through: the run failed, with the first error's kind.
        result.error_kind = errors[0]["kind"]
        result.error = f"{errors[0]['url']}: {errors[0]['message']}" + (
            f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else "")
    return result


def collect_site(cfg: SiteConfig, context: CollectContext, state: SourceState,
                 urls: list[str] | None = None) -> CollectResult:
    job = job_for(cfg, context, urls)
    # Stream posts to the caller while crawling — except with list rows, where a row and
    # its article page are merged first (records_to_result keeps the article's version).
    stream = context.on_posts if not (cfg.list and cfg.list.row) else None
    batch: list[RawPost] = []
    others: list[tuple[str, dict]] = []
    streamed = 0

    def on_record(kind: str, rec: dict) -> None:
        nonlocal streamed
        if kind != "page":
            others.append((kind, rec))
            return
        batch.append(_raw_post(rec))
        if len(batch) >= STREAM_BATCH:
            streamed += len(batch)
            stream(batch[:])
            batch.clear()

    try:
        records = run_crawl(job, timeout=cfg.crawl_timeout, on_record=on_record if stream else None)
    except subprocess.TimeoutExpired:
        records = None
        failure = CollectResult(state=state, error_kind="timeout",
                                error=f"the crawl did not finish within {cfg.crawl_timeout:g} s")
    except (RuntimeError, OSError) as e:
        records = None
        failure = CollectResult(state=state, error_kind="crawler", error=str(e))
    if stream and batch:  # what came before a failure is kept too
        streamed += len(batch)
        stream(batch[:])
        batch.clear()
    if records is None:
        if streamed:
            failure.warnings.append(f"{streamed} post(s) were collected before the crawl stopped")
        return failure
    if stream:
        result = records_to_result(others, state)
        result.streamed = streamed
        if streamed and result.error:  # some posts came through: a partial run, not a failure
            result.warnings.insert(0, f"{result.error_kind}: {result.error}")
            result.error_kind = result.error = None
    else:
        result = records_to_result(records, state)
    if not cfg.obey_robots:
        result.warnings.append("robots.txt is ignored for this source (obey_robots: false)")
    return result


@register
class SiteSource(SourceType):
    """Crawls list pages and article pages with the configured spider."""

    name = "site"
    config_model = SiteConfig

    def collect(self, state: SourceState) -> CollectResult:
        return collect_site(self.config, self.context, state)  # type: ignore[arg-type]
