"""The one hardened HTTP layer for feeds, search pages and robots.txt.

Every limit the open web needs: a deadline for the whole response (not just per read,
so a trickling server cannot hold us), a maximum body size (a larger body is cut and
flagged ``truncated``), a cap on decompressed size checked while decompressing (no
gzip or brotli bomb), a redirect limit, allowed domains on every hop, robots.txt,
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
from urllib.parse import urljoin, urlsplit

import httpx

from crawler.base import FetchResult

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
    allowed_domains: list[str] = field(default_factory=list)  # empty: any
    obey_robots: bool = True
    delay: float = 0.0
    per_host: int = 2
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def host_allowed(url: str, allowed: list[str]) -> bool:
    """True when the URL's host is one of ``allowed`` or a subdomain of one."""
    if not allowed:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in allowed)


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
            raise FetchError("decode", f"unsupported content encoding '{coding}'")

    def _count(self, data: bytes) -> bytes:
        self.out += len(data)
        if self.out > self.cap:
            raise FetchError("too_large", f"decompressed body exceeds {self.cap} bytes (compression bomb?)")
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
        except Exception as e:  # noqa: BLE001 - zlib.error, brotli.error
            raise FetchError("decode", f"corrupt {self.coding} body: {e}") from None


class HttpClient:
    """A process-wide, thread-safe fetcher. Keep one (see ``shared_client``): it holds
    the connection pool, the robots.txt cache and the per-host clocks."""

    def __init__(self) -> None:
        self._client = httpx.Client(
            follow_redirects=False,
            http2=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            headers={"Accept-Encoding": "gzip, deflate, br"},
            trust_env=False,
        )
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._host_sems: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, tuple[float, object]] = {}
        self.requests = 0
        self.wire_bytes = 0

    def close(self) -> None:
        self._client.close()

    # -- politeness -----------------------------------------------------------
    def _host_key(self, url: str) -> str:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc.lower()}"

    def _wait_turn(self, host: str, delay: float) -> None:
        if delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, 0.0))
            self._next_slot[host] = slot + delay
        if slot > now:
            time.sleep(slot - now)

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
                    FetchOptions(user_agent=opts.user_agent, timeout=min(opts.timeout, 10),
                                 max_bytes=512 * 1024, max_decompressed=2 * 1024 * 1024),
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
        """GET ``url`` under the limits in ``opts``. Returns any HTTP status (the
        caller decides what a 404 means); raises ``FetchError`` when there is no
        usable response: timeout, dns, refused, connection, too_large, redirect,
        offsite, robots, decode."""
        opts = opts or FetchOptions()
        if not host_allowed(url, opts.allowed_domains):
            raise FetchError("offsite", f"{url} is outside the allowed domains {opts.allowed_domains}")
        if opts.obey_robots and not self.robots_allows(url, opts):
            raise FetchError("robots", f"robots.txt forbids {url}")
        headers = dict(opts.headers)
        if opts.etag:
            headers["If-None-Match"] = opts.etag
        if opts.last_modified:
            headers["If-Modified-Since"] = opts.last_modified
        current = url
        for _hop in range(opts.max_redirects + 1):
            result = self._fetch_once(current, opts, headers)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                nxt = urljoin(current, result.headers["location"])
                if not nxt.startswith(("http://", "https://")):
                    raise FetchError("redirect", f"redirect to unsupported URL {nxt}")
                if not host_allowed(nxt, opts.allowed_domains):
                    raise FetchError("offsite", f"redirect to {nxt} leaves the allowed domains")
                if opts.obey_robots and not self.robots_allows(nxt, opts):
                    raise FetchError("robots", f"robots.txt forbids {nxt}")
                current = nxt
                continue
            result.url = url
            return result
        raise FetchError("redirect", f"more than {opts.max_redirects} redirects from {url}")

    def _fetch_once(self, url: str, opts: FetchOptions, headers: dict[str, str]) -> FetchResult:
        host = self._host_key(url)
        sem = self._semaphore(host, opts.per_host)
        with sem:
            self._wait_turn(host, opts.delay)
            return self._get(url, opts, headers)

    def _get(self, url: str, opts: FetchOptions, headers: dict[str, str]) -> FetchResult:
        start = time.monotonic()
        deadline = start + opts.timeout
        hdrs = {"User-Agent": opts.user_agent, **headers}
        timeout = httpx.Timeout(opts.timeout, connect=min(opts.timeout, 10))
        truncated = False
        wire = 0
        try:
            with self._client.stream("GET", url, headers=hdrs, timeout=timeout) as resp:
                self.requests += 1
                coding = resp.headers.get("content-encoding", "").strip().lower()
                decoder = _Decoder(coding, opts.max_decompressed) if coding not in ("", "identity") else None
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and decoder is None and int(declared) > opts.max_bytes:
                    truncated = True  # still read up to the limit: a cut body is evidence too
                parts: list[bytes] = []
                size = 0
                for chunk in resp.iter_raw():  # no chunk size: it would buffer a trickle
                    wire += len(chunk)
                    data = decoder.feed(chunk) if decoder else chunk
                    if size + len(data) > opts.max_bytes:
                        parts.append(data[: opts.max_bytes - size])
                        size = opts.max_bytes
                        truncated = True
                        break
                    parts.append(data)
                    size += len(data)
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", f"{url} did not finish within {opts.timeout:g} s")
                status = resp.status_code
                out_headers = {k.lower(): v for k, v in resp.headers.items()}
                final = str(resp.url)
        except FetchError:
            raise
        except httpx.TimeoutException:
            raise FetchError("timeout", f"{url} did not answer within {opts.timeout:g} s") from None
        except httpx.ConnectError as e:
            msg = str(e)
            if "Name or service not known" in msg or "nodename" in msg or "getaddrinfo" in msg or "resolution" in msg:
                raise FetchError("dns", f"cannot resolve the host of {url}") from None
            if "refused" in msg.lower():
                raise FetchError("refused", f"connection refused by {urlsplit(url).netloc}") from None
            raise FetchError("connection", f"cannot connect to {urlsplit(url).netloc}: {msg}") from None
        except httpx.RemoteProtocolError as e:
            raise FetchError("connection", f"{url}: the server broke the response ({e})") from None
        except httpx.HTTPError as e:
            raise FetchError("connection", f"{url}: {e}") from None
        finally:
            self.wire_bytes += wire
        if decoder is not None:
            out_headers["x-sentinel-decoded"] = coding
        out_headers["x-sentinel-wire-bytes"] = str(wire)
        return FetchResult(
            url=url, final_url=final, status=status, headers=out_headers, body=b"".join(parts),
            fetched_at=datetime.now(UTC), truncated=truncated,
        )


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
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500:
        return "http_5xx"
    return None
