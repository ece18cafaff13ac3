"""The one hardened HTTP layer for feeds, search pages and robots.txt.

Every limit the open web needs: one deadline for the whole fetch, from the connect to
the last byte and across redirects (``crawler.deadline``: not just per read, so a server
trickling its headers cannot hold us), a maximum body size (a larger body is cut and
flagged ``truncated``), a cap on decompressed size checked while decompressing (no
gzip or brotli bomb), a redirect limit, allowed hosts on every hop (port included) and
no redirect from another host into loopback or private addresses, robots.txt,
per-host delay and concurrency, and a User-Agent that names us.

The body kept in the ``FetchResult`` has its transport compression removed; the header
``X-Sentinel-Decoded`` names the coding that was removed and ``X-Sentinel-Wire-Bytes``
how many bytes came over the wire.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from crawler.base import FetchResult
from crawler.deadline import Deadline
from crawler.hosts import host_allowed, redirect_refusal
from crawler.transport import deadline_pool, request_headers, response_headers

DEFAULT_MAX_DECOMPRESSED = 50 * 1024 * 1024


class FetchError(Exception):
    """A fetch that produced nothing usable. ``kind`` is a short machine name."""

    def __init__(self, kind: str, message: str):
        self.kind, self.message = kind, message
        super().__init__(f"{kind}: {message}")


@dataclass
class FetchOptions:
    """Limits and identity for one fetch (filled from a source's config)."""

    user_agent: str = "sentinel/0.1 (public-opinion monitor)"
    timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED
    max_redirects: int = 5
    allowed_domains: list[str] = field(default_factory=list)  # host or host:port; empty: any
    allow_private: bool = False  # a redirect from another host may reach private addresses
    obey_robots: bool = True
    delay: float = 0.0
    per_host: int = 2
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cancel: threading.Event | None = None  # set: the fetch ends at once (the daemon stops)


class _Decoder:
    """Incremental content decoding with an output cap."""

    def __init__(self, coding: str, cap: int):
        self.coding, self.cap, self.out = coding, cap, 0
        if coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._z = zlib.decompressobj()
            self._raw_deflate_tried = False
        elif coding == "br":
            import brotli

            self._br = brotli.Decompressor()
        else:
            raise FetchError("decode", f"不支持的内容压缩方式“{coding}”")

    def _count(self, data: bytes) -> bytes:
        self.out += len(data)
        if self.out > self.cap:
            raise FetchError(
                "too_large", f"解压后内容超过 {self.cap} 字节（疑似压缩炸弹），已停止读取"
            )
        return data

    def feed(self, chunk: bytes) -> bytes:
        try:
            if self.coding == "br":
                parts = [self._br.process(chunk, output_buffer_limit=65536)]
                self._count(parts[-1])
                while not self._br.can_accept_more_data():
                    parts.append(self._count(self._br.process(b"", output_buffer_limit=65536)))
                return b"".join(parts)
            parts = []
            data = chunk
            while True:
                try:
                    piece = self._z.decompress(data, 65536)
                except zlib.error:
                    if self.coding == "deflate" and not self._raw_deflate_tried and self.out == 0:
                        # Some servers send raw deflate without the zlib header.
                        self._raw_deflate_tried = True
                        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                        piece = self._z.decompress(data, 65536)
                    else:
                        raise
                parts.append(self._count(piece))
                data = self._z.unconsumed_tail
                if not data:
                    break
            return b"".join(parts)
        except FetchError:
            raise
        except Exception as e:
            raise FetchError("decode", f"{self.coding} 压缩的内容已损坏：{e}") from None


class HttpClient:
    """A process-wide, thread-safe fetcher. Keep one (see ``shared_client``): it holds
    the connection pool, the robots.txt cache and the per-host clocks."""

    def __init__(self) -> None:
        # httpcore's pool under our deadline backend, without httpx.Client on top: the
        # client's per-request machinery (auth and redirect flows, a cookie jar, request
        # and response models) cost more CPU than the request itself, and a pass over
        # thousands of feeds is CPU-bound. Redirects are followed here, hop by hop.
        self._pool = deadline_pool(httpx.Limits(max_connections=100, max_keepalive_connections=50))
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._host_sems: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, tuple[float, object]] = {}
        self.requests = 0
        self.wire_bytes = 0

    def close(self) -> None:
        self._pool.close()

    # -- politeness -----------------------------------------------------------
    def _host_key(self, url: str) -> str:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc.lower()}"

    def _wait_turn(self, host: str, delay: float, left: float) -> None:
        if delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, 0.0))
            self._next_slot[host] = slot + delay
        if slot > now:
            time.sleep(max(0.0, min(slot - now, left)))  # past the deadline: the request fails

    def _semaphore(self, host: str, n: int) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._host_sems.get(host)
            if sem is None:
                sem = self._host_sems[host] = threading.BoundedSemaphore(max(1, n))
            return sem

    def robots_allows(self, url: str, opts: FetchOptions) -> bool:
        """robots.txt verdict for ``url`` (cached per host for an hour). A missing or
        broken robots.txt allows everything; a 401/403 on robots.txt forbids."""
        from protego import Protego

        host = self._host_key(url)
        with self._lock:
            cached = self._robots.get(host)
        if cached is None or time.monotonic() - cached[0] > 3600:
            rules: object
            try:
                r = self._fetch_once(
                    host + "/robots.txt",
                    FetchOptions(
                        user_agent=opts.user_agent,
                        timeout=min(opts.timeout, 10),
                        max_bytes=512 * 1024,
                        max_decompressed=2 * 1024 * 1024,
                    ),
                    {},
                )
                if r.status in (401, 403):
                    rules = False
                elif 200 <= r.status < 300:
                    rules = Protego.parse(r.body.decode("utf-8", "replace"))
                else:
                    rules = True
            except FetchError:
                rules = True
            with self._lock:
                self._robots[host] = (time.monotonic(), rules)
        else:
            rules = cached[1]
        if rules is True or rules is False:
            return bool(rules)
        return rules.can_fetch(url, opts.user_agent)  # type: ignore[attr-defined]

    # -- fetching -------------------------------------------------------------
    def fetch(self, url: str, opts: FetchOptions | None = None) -> FetchResult:
        """GET ``url`` under the limits in ``opts``, all of it (robots.txt, redirects,
        waiting for the host's turn) within ``opts.timeout``. Returns any HTTP status
        (the caller decides what a 404 means); raises ``FetchError`` — and nothing else —
        when there is no usable response: timeout, dns, refused, connection, too_large,
        redirect, offsite, robots, decode, bad_url."""
        opts = opts or FetchOptions()
        if not host_allowed(url, opts.allowed_domains):
            raise FetchError(
                "offsite", f"{url[:200]} 不在允许的网站（allowed_domains，含端口）之内"
            )
        with Deadline(opts.timeout, cancel=opts.cancel):
            return self._fetch(url, opts)

    def _fetch(self, url: str, opts: FetchOptions) -> FetchResult:
        if opts.obey_robots and not self.robots_allows(url, opts):
            raise FetchError("robots", f"robots.txt 禁止采集 {url}")
        headers = dict(opts.headers)
        if opts.etag:
            headers["If-None-Match"] = opts.etag
        if opts.last_modified:
            headers["If-Modified-Since"] = opts.last_modified
        current = url
        for _hop in range(opts.max_redirects + 1):
            result = self._fetch_once(current, opts, headers)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                location = result.headers["location"].strip()
                try:
                    nxt = urljoin(current, location)
                    urlsplit(nxt).port  # noqa: B018 - raises ValueError for a port that is no number
                except ValueError:
                    raise FetchError(
                        "redirect", f"{current[:200]} 跳转到无效的地址 {location[:200]!r}"
                    ) from None
                refused = redirect_refusal(current, nxt, opts.allowed_domains, opts.allow_private)
                if refused:
                    raise FetchError(*refused)
                if opts.obey_robots and not self.robots_allows(nxt, opts):
                    raise FetchError("robots", f"robots.txt 禁止采集 {nxt}")
                current = nxt
                continue
            result.url = url
            return result
        raise FetchError("redirect", f"从 {url} 起跳转超过 {opts.max_redirects} 次")

    def _fetch_once(self, url: str, opts: FetchOptions, headers: dict[str, str]) -> FetchResult:
        host = self._host_key(url)
        sem = self._semaphore(host, opts.per_host)
        with Deadline(opts.timeout) as d:
            if not sem.acquire(timeout=max(0.0, d.left())):
                raise FetchError(
                    "timeout",
                    f"{url[:200]} 等待同一网站的其他请求结束，{opts.timeout:g} 秒内未轮到",
                )
            try:
                self._wait_turn(host, opts.delay, d.left())
                return self._get(url, opts, headers, d)
            finally:
                sem.release()

    def _get(
        self, url: str, opts: FetchOptions, headers: dict[str, str], d: Deadline
    ) -> FetchResult:
        timeout = {"connect": min(opts.timeout, 10), "read": opts.timeout, "write": opts.timeout}
        timeout["pool"] = opts.timeout
        truncated = False
        wire = 0
        late = FetchError(
            "timeout", f"{url[:200]} 在 {opts.timeout:g} 秒内没有完整返回（从连接到最后一个字节）"
        )
        try:
            parsed, target, final = _parse_url(url)
            request = httpcore.Request(
                "GET",
                target,
                headers=request_headers(parsed, opts.user_agent, headers),
                extensions={"timeout": timeout},
            )
        except Exception as e:
            raise FetchError("bad_url", f"网址无效：{url[:200]}（{e}）") from None
        resp = None
        try:
            resp = self._pool.handle_request(request)
            self.requests += 1
            resp_headers = response_headers(resp.headers)
            coding = resp_headers.get("content-encoding", "").strip().lower()
            decoder = (
                _Decoder(coding, opts.max_decompressed) if coding not in ("", "identity") else None
            )
            declared = resp_headers.get("content-length")
            if (
                declared
                and declared.isdigit()
                and decoder is None
                and int(declared) > opts.max_bytes
            ):
                truncated = True  # still read up to the limit: a cut body is evidence too
            parts: list[bytes] = []
            size = 0
            for chunk in resp.iter_stream():  # as it comes: a size would buffer a trickle
                wire += len(chunk)
                data = decoder.feed(chunk) if decoder else chunk
                if size + len(data) > opts.max_bytes:
                    parts.append(data[: opts.max_bytes - size])
                    size = opts.max_bytes
                    truncated = True
                    break
                parts.append(data)
                size += len(data)
                if d.left() <= 0:
                    raise late
            if _passed(d):  # the deadline closed the socket: an end by close is no real end
                raise late
            status = resp.status
            out_headers = resp_headers
        except FetchError:
            raise
        except Exception as e:
            if _passed(d) or isinstance(e, (httpx.TimeoutException, httpcore.TimeoutException)):
                raise late from None  # also when the deadline's shutdown surfaced as a broken read
            raise _fetch_error(url, e) from None
        finally:
            self.wire_bytes += wire
            if resp is not None:
                try:
                    resp.close()  # back to the pool, or closed when the body was not all read
                except Exception:
                    pass
        if decoder is not None:
            out_headers["x-sentinel-decoded"] = coding
        out_headers["x-sentinel-wire-bytes"] = str(wire)
        return FetchResult(
            url=url,
            final_url=final,
            status=status,
            headers=out_headers,
            body=b"".join(parts),
            fetched_at=datetime.now(UTC),
            truncated=truncated,
        )


@lru_cache(maxsize=16384)
def _parse_url(url: str) -> tuple[httpx.URL, httpcore.URL, str]:
    """A URL parsed for a request, once per URL (a daemon asks the same feeds every few
    minutes): httpx's parse, httpcore's URL, and the URL as httpx writes it. All three
    are immutable; an invalid URL raises each time (nothing is cached)."""
    parsed = httpx.URL(url)
    target = httpcore.URL(
        scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
    )
    return parsed, target, str(parsed)


def _passed(d: Deadline) -> bool:
    """The fetch's time is up: this deadline was reaped, or its end has come (an outer
    deadline with the same end may have closed the socket first)."""
    return d.expired or d.left() <= 0


def _fetch_error(url: str, e: Exception) -> FetchError:
    """A FetchError for what httpx (or anything under it) raised: one line, a kind."""
    netloc = urlsplit(url).netloc
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, (httpx.ConnectError, httpcore.ConnectError)):
        if (
            "Name or service not known" in msg
            or "nodename" in msg
            or "getaddrinfo" in msg
            or "resolution" in msg
        ):
            return FetchError("dns", f"无法解析 {url} 的域名")
        if "refused" in msg.lower():
            return FetchError("refused", f"{netloc} 拒绝连接")
        return FetchError("connection", f"无法连接 {netloc}：{msg}")
    if isinstance(e, httpx.InvalidURL) or "location" in msg.lower():
        # The request URL was checked before sending: httpx read a Location header it
        # cannot use (data:, a broken host or port) while preparing the next hop.
        return FetchError("redirect", f"{url[:200]} 跳转到无效的地址（{msg[:200]}）")
    if isinstance(e, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)):
        return FetchError("connection", f"{url}：服务器中途断开了响应（{msg}）")
    if isinstance(
        e,
        (
            httpx.HTTPError,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
        ),
    ):
        return FetchError("connection", f"{url}: {msg}")
    return FetchError("connection", f"{url}: {type(e).__name__}: {msg}")


_SHARED: HttpClient | None = None
_SHARED_LOCK = threading.Lock()


def shared_client() -> HttpClient:
    """The process-wide client (created on first use)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = HttpClient()
        return _SHARED


def error_kind_for_status(status: int) -> str | None:
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500:
        return "http_5xx"
    return None


def retry_after(headers: dict[str, str], status: int, now: datetime | None = None) -> float | None:
    """Seconds a 429 or 503 answer asks us to wait (``Retry-After``: seconds or an HTTP
    date); None when it says nothing usable."""
    value = (headers.get("retry-after") or "").strip()
    if status not in (429, 503) or not value:
        return None
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
