"""The one generic Scrapy spider, configured from a source's YAML, and its child-process
entry point (``python -m crawler.spider JOB OUT``).

Scrapy's reactor cannot be restarted, so every collection runs in a fresh child process
(see ``crawler.child``). The child writes one pickled record per line of
work to OUT: ``("page", dict)`` for each fetched page that produced a post, ``("error",
dict)`` for each failed request, ``("stats", dict)`` at the end.
"""

from __future__ import annotations

import pickle
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import TextResponse

from crawler import render
from crawler.encoding import decode, normalise_label
from crawler.fetch_errors import error_kind
from crawler.selectors import count, first, joined, select
from crawler.text import extract_main, list_page
from crawler.times import parse_time

FIELDS = ("title", "body", "author", "published", "replies", "views")


def settings_for(job: dict[str, Any]) -> dict[str, Any]:
    """Scrapy settings for one job: tight limits instead of Scrapy's loose defaults."""
    settings = {
        "USER_AGENT": job.get("user_agent") or "sentinel/0.1",
        "ROBOTSTXT_OBEY": bool(job.get("obey_robots", True)),
        # The spider cuts bodies at max_bytes itself (kept, flagged truncated); Scrapy's
        # own limit is the backstop, and the cap on decompressed size (no bomb).
        "DOWNLOAD_MAXSIZE": 4 * int(job.get("max_bytes", 10 * 1024 * 1024)),
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": float(job.get("timeout", 30)),
        "REDIRECT_MAX_TIMES": int(job.get("max_redirects", 5)),
        "CONCURRENT_REQUESTS": max(8, int(job.get("concurrency", 2))),
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(job.get("concurrency", 2)),
        "DOWNLOAD_DELAY": float(job.get("delay", 0.5)),
        "RETRY_TIMES": int(job.get("retries", 1)),
        # Not 429: a site that asks us to slow down is not asked again at once.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's remote control (an HTTP server that runs code sent to it, and a
        # job file in ~/.local/state/scrapy for each crawl): not in an unattended crawler.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": job.get("log_level", "ERROR"),
        "CLOSESPIDER_PAGECOUNT": int(job.get("max_requests", 0)),
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "HTTPERROR_ALLOW_ALL": False,
        "DNS_TIMEOUT": min(float(job.get("timeout", 30)), 20),
        # Web pages only: no data:, file:, ftp: or s3: downloads, whatever a page links to.
        "DOWNLOAD_HANDLERS": {"data": None, "file": None, "ftp": None, "s3": None},
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.spider.HostGuard": 40,  # before robots.txt (100): no request at all offsite
            "crawler.spider.WireRecorder": 595,
            "crawler.spider.RedirectGuard": 610,  # sees a 3xx before RedirectMiddleware (600)
        },
        **(job.get("queue") or {}).get("settings", {}),  # scrapy-redis for a crawl worker
    }
    return render.with_render(settings, job) if job.get("render") else settings  # crawler/render.py


class _Guard:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _job(self) -> dict:
        return getattr(self.crawler.spider, "job", {}) or {}


class HostGuard(_Guard):
    """Every request — start requests and redirects included, whatever ``dont_filter``
    says (Scrapy's own offsite check lets those through) — must be to an allowed
    host:port; one reached by redirect from another host must not be a loopback or
    private address unless the source allows it."""

    def process_request(self, request, spider=None):
        from scrapy.exceptions import IgnoreRequest

        from crawler.hosts import host_allowed, redirect_refusal

        job = self._job()
        allowed = list(job.get("allowed_domains") or [])
        if urlsplit(request.url).scheme.lower() not in ("http", "https"):
            raise IgnoreRequest(
                f"offsite: 不支持的地址 {request.url[:200]}（只采集 http 和 https 网页）"
            )
        previous = (request.meta.get("redirect_urls") or [None])[-1]
        if previous:
            refused = redirect_refusal(
                previous, request.url, allowed, bool(job.get("allow_private"))
            )
            if refused:
                raise IgnoreRequest(f"{refused[0]}: {refused[1]}")
        elif not host_allowed(request.url, allowed):
            raise IgnoreRequest(
                f"offsite: {request.url[:200]} 不在允许的网站（allowed_domains，含端口）之内"
            )


class RedirectGuard(_Guard):
    """A redirect to an unusable URL (data:, a broken host or port) is refused with its
    reason, instead of surfacing as an odd HTTP 302 error or a ValueError."""

    def process_response(self, request, response, spider=None):
        from scrapy.exceptions import IgnoreRequest
        from w3lib.url import safe_url_string

        from crawler.hosts import redirect_refusal

        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        raw = response.headers[b"Location"].decode("latin-1")
        try:
            target = urljoin(request.url, safe_url_string(raw.strip()))
            urlsplit(target).port  # noqa: B018 - raises ValueError for a port that is no number
        except ValueError:
            raise IgnoreRequest(
                f"redirect: {request.url[:200]} 跳转到无效的地址 {raw[:200]!r}"
            ) from None
        job = self._job()
        refused = redirect_refusal(
            request.url,
            target,
            list(job.get("allowed_domains") or []),
            bool(job.get("allow_private")),
        )
        if refused:
            raise IgnoreRequest(f"{refused[0]}: {refused[1]}")
        return response


class WireRecorder:
    """Downloader middleware just below HTTP decompression: remembers the transport
    coding and the size on the wire, so the snapshot can say what was removed."""

    def process_response(self, request, response, spider=None):
        coding = response.headers.get(b"Content-Encoding")
        if coding:
            request.meta["sentinel_decoded"] = coding.decode("latin-1")
        request.meta["sentinel_wire_bytes"] = len(response.body)
        return response


class ConfiguredSpider(scrapy.Spider):
    """Start URLs → (list pages → item links, pagination) → article pages → fields."""

    name = "sentinel"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        from scrapy import signals

        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes, signal=signals.bytes_received)
        if spider.job.get("queue"):  # a crawl worker's share of a run (crawler/queue.py)
            from crawler.queue import attach

            attach(spider, crawler)
        return spider

    def on_bytes(self, data: bytes, request, spider) -> None:
        """Stop a download at max_bytes but keep what came: a cut body is evidence too."""
        got = request.meta.get("sentinel_received", 0) + len(data)
        request.meta["sentinel_received"] = got
        if got > self.max_bytes:
            from scrapy.exceptions import StopDownload

            raise StopDownload(fail=False)

    def __init__(self, job: dict[str, Any], sink, **kw):
        super().__init__(**kw)
        self.job = job
        self.sink = sink
        from crawler.hosts import entry_host

        # Scrapy's own offsite check takes bare host names; HostGuard checks the ports.
        self.allowed_domains = sorted(
            {entry_host(e) for e in job.get("allowed_domains") or []} - {""}
        )
        self.list = job.get("list") or None
        self.fields = job.get("fields") or {}
        self.tz = job.get("timezone", "Asia/Shanghai")
        self.encoding = normalise_label(job.get("encoding"))
        self.seen: set[str] = set()
        self.max_bytes = int(job.get("max_bytes", 10 * 1024 * 1024))

    async def start(self):
        # Shared by crawl workers, the start pages go through the shared duplicate
        # filter: the first worker's are crawled, the others' dropped.
        alone = not self.job.get("queue")
        for url in self.job["urls"]:
            if self.list:
                yield scrapy.Request(
                    url,
                    callback=self.parse_list,
                    errback=self.failed,
                    cb_kwargs={"page": 1},
                    dont_filter=alone,
                    meta=render.request_meta(self.job, listing=True),
                )
            else:
                yield scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.failed,
                    dont_filter=alone,
                    meta=render.request_meta(self.job),
                )

    # -- helpers --------------------------------------------------------------
    def emit(self, kind: str, record: dict) -> None:
        pickle.dump((kind, record), self.sink, protocol=pickle.HIGHEST_PROTOCOL)

    def failed(self, failure):
        if failure.check(render.OverBudget):
            return  # counted in the stats: the run says how many pages were left
        kind, message = error_kind(failure)
        url = failure.request.url if getattr(failure, "request", None) else ""
        if url and failure.request.meta.get("sentinel_refused"):  # why a rendered page failed
            kind, message = failure.request.meta["sentinel_refused"]
        record = {"url": url, "kind": kind, "message": message}
        response = getattr(failure.value, "response", None)
        if response is not None and b"Retry-After" in response.headers:
            from crawler.http import retry_after

            record["retry_after"] = retry_after(
                {"retry-after": response.headers[b"Retry-After"].decode("latin-1")}, response.status
            )
        self.emit("error", record)

    def decoded(self, response) -> TextResponse | None:
        """The response re-read with our encoding rules (BOM, header, declaration that
        actually decodes, detection) instead of trusting a lying meta tag."""
        response, offsite = render.where_it_ended(response, self.job)
        if offsite:
            self.emit("error", {"url": response.request.url, "kind": "offsite", "message": offsite})
            return None
        if self.encoding:
            return response.replace(cls=scrapy.http.HtmlResponse, encoding=self.encoding)
        d = decode(response.body, response.headers.get(b"Content-Type", b"").decode("latin-1"))
        if d.text is None:
            self.emit("undecodable", self.snapshot(response, decode_error=d.error))
            return None
        return response.replace(cls=scrapy.http.HtmlResponse, encoding=d.encoding)

    def snapshot(self, response, **extra) -> dict:
        headers = {
            k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items()
        }
        req = response.request
        if req is not None and req.meta.get("sentinel_decoded"):
            headers["x-sentinel-decoded"] = req.meta["sentinel_decoded"]
        if "playwright" in (response.flags or []):
            headers["x-sentinel-rendered"] = "chromium"  # the DOM after scripts, not the bytes
        if req is not None and "sentinel_wire_bytes" in req.meta:
            headers["x-sentinel-wire-bytes"] = str(req.meta["sentinel_wire_bytes"])
        url = req.meta.get("redirect_urls", [req.url])[0] if req is not None else response.url
        return {
            "url": url,
            "final_url": response.url,
            "status": response.status,
            "headers": headers,
            "body": response.body[: self.max_bytes],
            "fetched_at": datetime.now(UTC),
            "truncated": "download_stopped" in (response.flags or [])
            or len(response.body) > self.max_bytes
            or bool(req is not None and req.meta.get("sentinel_cut")),
            **extra,
        }

    def parse_failed(self, response, exc: BaseException) -> None:
        """A page our parsing could not read: an error record with one line, instead of
        a traceback in the child's log and a page silently missing."""
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        self.emit(
            "error",
            {
                "url": response.url,
                "kind": "parse",
                "message": f"页面无法解析（{type(exc).__name__}{'：' + detail if detail else ''}）",
            },
        )

    # -- callbacks ------------------------------------------------------------
    def parse_list(self, response, page: int):
        try:
            yield from self._parse_list(response, page)
        except Exception as e:
            self.parse_failed(response, e)

    def _parse_list(self, response, page: int):
        r = self.decoded(response)
        if r is None:
            return
        spec = self.list
        rows = spec.get("row")
        if rows:
            for row in select(r, rows):
                self._row_post(r, row)
        follow = spec.get("follow")
        if follow is None:
            follow = not rows
        if spec.get("item") and follow:
            for href in select(r, spec["item"]).getall():
                href = href.strip()
                if not href or href.startswith(("javascript:", "#", "mailto:")):
                    continue
                yield r.follow(
                    href,
                    callback=self.parse_article,
                    errback=self.failed,
                    meta=render.request_meta(self.job),
                )
        if spec.get("next") and page < int(spec.get("max_pages", 1)):
            nxt = first(r, spec["next"])
            if nxt and not nxt.startswith("javascript:"):
                yield r.follow(
                    nxt,
                    callback=self.parse_list,
                    errback=self.failed,
                    cb_kwargs={"page": page + 1},
                    meta=render.request_meta(self.job, listing=True),
                )

    def _row_post(self, r, row):
        spec = self.list
        link = first(row, spec.get("item")) if spec.get("item") else None
        if not link:
            return
        url = r.urljoin(link)
        if url in self.seen:
            return
        self.seen.add(url)
        rf = spec.get("fields") or {}
        values = {
            k: (joined(row, rf.get(k)) if k == "body" else first(row, rf.get(k))) for k in FIELDS
        }
        rec = self.snapshot(r)
        rec["post_url"] = url
        rec["fields"] = self._finish(values, fetched=rec["fetched_at"])
        rec["from_row"] = True
        rec["encoding"] = r.encoding
        self.emit("page", rec)

    def parse_article(self, response) -> None:
        try:
            self._parse_article(response)
        except Exception as e:
            self.parse_failed(response, e)
        # Returns None, not a generator: Scrapy then skips its per-callback output
        # machinery (~100 asyncio tasks per response), worth ~20 % of throughput.

    def _parse_article(self, response) -> None:
        r = self.decoded(response)
        if r is None:
            return
        f = self.fields
        values = {k: first(r, f.get(k)) for k in FIELDS if k != "body"}
        values["body"] = joined(r, f.get("body"))
        if not f.get("body"):
            auto = extract_main(r.text, r.url)
            if auto.get("kind") == "list":  # a forum board or news index, not an article
                self.emit("error", {"url": r.url, "kind": "parse", "message": list_page(auto)})
                return
            values["body"] = auto["text"]
            values["title"] = values["title"] or auto["title"]
            values["author"] = values["author"] or auto["author"]
            values["published"] = values["published"] or auto["date"]
        elif not values["title"]:
            values["title"] = first(r, "title::text")
        rec = self.snapshot(r)
        rec["post_url"] = r.url
        rec["encoding"] = r.encoding
        rec["fields"] = self._finish(values, fetched=rec["fetched_at"])
        self.emit("page", rec)

    def _finish(self, v: dict, fetched: datetime) -> dict:
        out = dict(v)
        out["published_at"] = (
            parse_time(v.get("published"), now=fetched, tz=self.tz) if v.get("published") else None
        )
        out["replies"] = count(v.get("replies"))
        out["views"] = count(v.get("views"))
        return out

    def closed(self, reason):
        stats = self.crawler.stats.get_stats()
        self.emit(
            "stats",
            {
                "reason": reason,
                "requests": stats.get("downloader/request_count", 0),
                "responses": stats.get("downloader/response_count", 0),
                "bytes": stats.get("downloader/response_bytes", 0),
                "robots_forbidden": stats.get("robotstxt/forbidden", 0),
                "render_skipped": stats.get("sentinel/render_skipped", 0),
                "render_max_pages": self.job.get("render_max_pages"),
                "elapsed": (datetime.now(UTC) - stats["start_time"]).total_seconds()
                if stats.get("start_time")
                else None,
            },
        )


def run_job(job: dict[str, Any], out_path: str) -> None:
    """Run one crawl in this process (the child) and write records to ``out_path``."""
    from scrapy.crawler import CrawlerProcess

    # "fd:N" is a pipe inherited from the parent, which reads records as they come.
    target = int(out_path[3:]) if out_path.startswith("fd:") else out_path
    with open(target, "wb") as sink:
        try:
            settings = settings_for(job)
        except render.BrowserMissing as e:  # render: true on a machine without Chromium
            pickle.dump(
                ("error", {"url": job["urls"][0], "kind": "render", "message": str(e)}), sink
            )
            return
        process = CrawlerProcess(settings)
        process.crawl(ConfiguredSpider, job=job, sink=sink)
        process.start()


def main(argv: list[str]) -> int:
    with open(argv[1], "rb") as fh:
        job = pickle.load(fh)
    run_job(job, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
