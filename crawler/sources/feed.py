"""RSS 0.9x/1.0/2.0, Atom and RDF feeds: fetched by our HTTP layer with conditional
GET, decoded by ``crawler.encoding``, parsed by feedparser from bytes."""

from __future__ import annotations

import calendar
import hashlib
import logging
import warnings as warnings_module
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

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
from crawler.encoding import decode
from crawler.hosts import own_hosts
from crawler.http import FetchError, error_kind_for_status, retry_after, shared_client
from crawler.options import HostOptions
from crawler.sources.common import fetch_options, from_fetch_error
from crawler.text import html_to_text
from crawler.times import parse_time
from crawler.urls import canonical

log = logging.getLogger("sentinel.crawler")


class FeedConfig(HostOptions, SourceConfig):
    """An RSS, Atom or RDF feed."""

    type: Literal["feed"] = Field("feed", description="feed")
    url: str = Field(description="The feed's URL (http or https).")


def _struct_to_dt(st) -> datetime | None:
    if not st:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(st), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _int(v) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def parse_feed(
    result: FetchResult, tz: str = "Asia/Shanghai"
) -> tuple[list[RawPost], list[str], str | None]:
    """Posts, warnings and an error message (None when the feed was usable).
    Sets ``result.encoding`` or ``result.decode_error``."""
    import feedparser

    decoded = decode(result.body, result.headers.get("content-type"))
    if decoded.text is None:
        result.decode_error = decoded.error
        return [], [], decoded.error
    result.encoding = decoded.encoding
    if decoded.text.lstrip("\ufeff \r\n\t").startswith("{"):
        return parse_json_feed(decoded.text, result, tz)
    headers = {k: v for k, v in result.headers.items() if k not in ("content-encoding",)}
    headers["content-type"] = "application/xml; charset=utf-8"
    headers.setdefault("content-location", result.final_url)
    # feedparser now sees UTF-8 bytes and a header that says so; it rewrites the
    # document's own declaration, so a lying declaration cannot undo our decoding.
    parsed = feedparser.parse(
        decoded.text.lstrip("\ufeff").encode("utf-8"),
        response_headers=headers,
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    warnings: list[str] = []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        warnings.append(f"订阅源格式有误，已尽量解析（{type(exc).__name__}: {exc}）")
    entries = parsed.get("entries") or []
    if not entries and parsed.get("bozo") and not (parsed.get("feed") or {}).get("title"):
        return [], warnings, "not a feed: nothing could be parsed"
    with warnings_module.catch_warnings():
        # feedparser warns about its updated_parsed → published_parsed fallback.
        warnings_module.simplefilter("ignore", DeprecationWarning)
        posts = list(_posts(entries, result, tz))
    return posts, warnings, None


_JSON_TEXT_FIELDS = (
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
)


def _json_item_problem(item) -> str | None:
    """Why a JSON Feed item cannot be read (a field of the wrong type), or None."""
    if not isinstance(item, dict):
        return f"条目应是对象，实际是{_json_type(item)}"
    for key in _JSON_TEXT_FIELDS:
        if item.get(key) is not None and not isinstance(item[key], str):
            return f"{key} 应是字符串，实际是{_json_type(item[key])}"
    ident = item.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, (str, int, float))):
        return f"id 应是字符串，实际是{_json_type(ident)}"  # a number is coerced, as the spec says
    author = item.get("author")
    if author is not None and not isinstance(author, dict):
        return f"author 应是对象，实际是{_json_type(author)}"
    authors = item.get("authors")
    if authors is not None and not (
        isinstance(authors, list) and all(isinstance(a, dict) for a in authors)
    ):
        return "authors 应是对象的列表"
    for a in ([author] if author else []) + list(authors or []):
        if a.get("name") is not None and not isinstance(a["name"], str):
            return f"作者的 name 应是字符串，实际是{_json_type(a['name'])}"
    return None


def _json_type(v) -> str:
    for t, name in (
        (bool, "布尔值"),
        (int, "数字"),
        (float, "数字"),
        (str, "字符串"),
        (list, "列表"),
        (dict, "对象"),
    ):
        if isinstance(v, t):
            return name
    return "空值" if v is None else type(v).__name__


def parse_json_feed(
    text: str, result: FetchResult, tz: str
) -> tuple[list[RawPost], list[str], str | None]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org), which this feedparser does not read. An
    item with a field of the wrong type is skipped with a warning; a feed where no item
    can be read, or nested too deep to read, is not a feed."""
    import json

    try:
        doc = json.loads(text)
    except RecursionError:
        return [], [], "不是有效的 JSON Feed：嵌套层数过深，无法读取"
    except ValueError as e:
        return [], [], f"not a feed: invalid JSON ({e})"
    if not isinstance(doc, dict) or "jsonfeed.org" not in str(doc.get("version", "")):
        return [], [], "not a feed: JSON without a JSON Feed version"
    items = doc.get("items") or []
    if not isinstance(items, list):
        return [], [], f"不是有效的 JSON Feed：items 应是列表，实际是{_json_type(items)}"
    entries, bad = [], []
    for i, item in enumerate(items):
        problem = _json_item_problem(item)
        if problem:
            bad.append(f"第 {i + 1} 个条目：{problem}")
            continue
        author = item.get("author") or (item.get("authors") or [{}])[0]
        entries.append(
            {
                "link": item.get("url") or item.get("external_url") or "",
                "id": str(item.get("id") or ""),
                "title": item.get("title") or "",
                "summary": item.get("content_html")
                or item.get("content_text")
                or item.get("summary")
                or "",
                "published": item.get("date_published") or item.get("date_modified") or "",
                "author": author.get("name"),
            }
        )
    warnings = [f"{len(bad)} 个条目格式有误，已跳过：" + "；".join(bad[:3])] if bad else []
    if bad and not entries:
        more = f"（另有 {len(bad) - 1} 个条目有误）" if len(bad) > 1 else ""
        return [], warnings, f"不是有效的 JSON Feed：{bad[0]}{more}"
    return list(_posts(entries, result, tz)), warnings, None


def _posts(entries, result: FetchResult, tz: str) -> Iterable[RawPost]:
    for e in entries:
        link = e.get("link") or ""
        ident = e.get("id") or ""
        if not link and ident.startswith(("http://", "https://")):
            link = ident
        if link.startswith(("http://", "https://")):
            url = canonical(link)
        else:
            key = ident or (
                e.get("title", "") + "|" + e.get("published", "") + "|" + e.get("summary", "")[:200]
            )
            url = (
                "urn:sentinel:entry:"
                + hashlib.sha1(
                    (result.final_url + "\n" + key).encode("utf-8", "replace")
                ).hexdigest()
            )
        body_html = ""
        if e.get("content"):
            body_html = max((c.get("value") or "" for c in e["content"]), key=len)
        if len(e.get("summary") or "") > len(body_html):
            body_html = e.get("summary") or ""
        published = _struct_to_dt(
            e.get("published_parsed") or e.get("updated_parsed") or e.get("created_parsed")
        )
        if published is None:
            published = parse_time(
                e.get("published") or e.get("updated") or e.get("dc_date"), tz=tz
            )
        yield RawPost(
            url=url,
            title=html_to_text(e.get("title") or ""),
            text=html_to_text(body_html),
            author=(e.get("author") or None),
            published_at=published,
            replies=_int(e.get("slash_comments")),
            snapshot=result,
            extra={"link": link, "id": ident} if link or ident else {},
        )


class FeedSource(SourceType):
    """Polls one feed; an unchanged feed costs one 304 and no parsing."""

    name = "feed"
    config_model = FeedConfig

    def collect(self, state: SourceState) -> Batches:
        cfg: FeedConfig = self.config  # type: ignore[assignment]
        return (yield from collect_feed_url(cfg.url, cfg, self.context, state, conditional=True))


def collect_feed_url(
    url: str, cfg: HostOptions, context: CollectContext, state: SourceState, conditional: bool
) -> Batches:
    """Fetch and parse one feed URL (for feed and search sources): one batch, if any."""
    allowed = [*cfg.allowed_domains, *own_hosts([url])]
    opts = fetch_options(cfg, context, state if conditional else None, allowed)
    try:
        result = shared_client().fetch(url, opts)
    except FetchError as e:
        return from_fetch_error(state, e, requests=1)
    new_state = state.copy()
    if result.status == 304:
        return Outcome(state=new_state, fetched=1, not_modified=True, requests=1)
    kind = error_kind_for_status(result.status)
    if kind:
        return Outcome(
            state=new_state,
            fetched=1,
            error_kind=kind,
            requests=1,
            error=f"{url} 返回 HTTP {result.status}",
            retry_after=retry_after(result.headers, result.status),
        )
    try:
        posts, warnings, error = parse_feed(result, context.timezone)
    except Exception as e:  # content must never crash a poll: one line, the source fails
        log.debug("feed %s could not be parsed", url, exc_info=True)
        detail = str(e).splitlines()[0][:200] if str(e) else ""
        posts, warnings, error = (
            [],
            [],
            f"内容无法解析（{type(e).__name__}{'：' + detail if detail else ''}）",
        )
    if not cfg.obey_robots:
        warnings.append("本来源不遵守 robots.txt（obey_robots: false）")
    if result.truncated:
        warnings.append(f"订阅源超过 {cfg.max_bytes} 字节，只保存了前面部分")
    out = Outcome(state=new_state, fetched=1, warnings=warnings, requests=1)
    if error:
        # Not a usable feed: keep its bytes as evidence, and keep the old validators so
        # the next run fetches it in full.
        yield Batch(snapshots=[result])
        out.error_kind = "decode" if result.decode_error else "bad_feed"
        out.error = error
        return out
    if conditional:
        new_state.etag = result.headers.get("etag")
        new_state.last_modified = result.headers.get("last-modified")
    if posts:
        yield Batch(posts=posts)
    return out
