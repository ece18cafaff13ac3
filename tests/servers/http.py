"""A loopback HTTP/1.1 server for tests and benchmarks, after Scrapy's tests/mockserver.

Serves resources registered by path (bytes with chosen status and headers, ETag and
Last-Modified answered with 304 on a matching conditional GET) and, under
``/hostile/``, the things the open web does to a crawler:

- ``/hostile/hang``            headers never come
- ``/hostile/never-ending``    a 200 whose body trickles forever
- ``/hostile/drop``            Content-Length promises more than is sent, then the socket closes
- ``/hostile/broken-chunked``  a chunked body with a garbage chunk size
- ``/hostile/gzip-bomb``       ~100 KB of gzip that inflates to 100 MB
- ``/hostile/brotli-bomb``     the same with brotli
- ``/hostile/redirect-loop``   redirects to itself forever
- ``/hostile/big``             a 50 MB body (``?nolength=1``: without Content-Length)
- ``/hostile/trickle-headers`` the status line and headers one byte a second, never ending
                               (``?every=0.5``: seconds between bytes)
- ``/hostile/trickle-body``    complete headers, then a body one byte a second
- ``/hostile/redirect-data``   a redirect to a ``data:`` URL
- ``/hostile/redirect-bad``    a redirect to a URL no client can parse (``http://[::1``)
- ``/hostile/json-deep``       a JSON Feed nested 100,000 deep (``?depth=N``)
- ``/hostile/json-wrong-types`` a JSON Feed whose fields have the wrong types
- ``/hostile/terminal``        a JSON Feed whose titles carry Rich markup, control
                               characters and terminal escape sequences (OSC, CSI, C1)
- ``/hostile/terminal-page``   an HTML article whose title, headline, byline and text
                               carry the same
- ``/redirect?to=URL``         one redirect to URL (``&code=301``)

POST is answered like GET (the body is read and logged), so webhooks can be pointed at
any of these. Every request is logged (method, path, headers) in ``server.log``.
Use as a context manager: ``with LoopbackHTTPServer() as srv: srv.url('/x')``.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlsplit

_BOMB_SIZE = 100 * 1024 * 1024
_BIG_SIZE = 50 * 1024 * 1024
_cache: dict[str, bytes] = {}
_cache_lock = threading.Lock()


def _bomb(kind: str) -> bytes:
    with _cache_lock:
        if kind not in _cache:
            zeros = b"\0" * _BOMB_SIZE
            if kind == "gzip":
                _cache[kind] = gzip.compress(zeros, compresslevel=9)
            else:
                import brotli

                _cache[kind] = brotli.compress(zeros, quality=5)
        return _cache[kind]


# Escape sequences a hostile title may carry: Rich markup, OSC (set the window title,
# hyperlinks), CSI (clear the screen, colours), an 8-bit CSI, BEL, backspace, NUL, and
# the Unicode bidirectional controls that reorder what the screen shows.
TERMINAL_TITLES = [
    "[/x] 江西警察学院 [bold red]通知[/]",
    "\x1b]0;pwned\x07江西警察学院食堂\x1b[2J\x1b[31m红字\x1b[0m",
    "\x9b31m八位控制\x08\x00\x07结束\x1b]8;;http://evil.example/\x1b\\链接\x1b]8;;\x1b\\",
    # A right-to-left override and an isolate: "通知.exe" would read as "exe.知通".
    "\u202e通知.exe\u202c 附件\u2067反向\u2069",
]
TERMINAL_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "\x1b]0;feed\x07",
    "items": [
        {
            "id": f"t{i}",
            "url": f"http://t.example/{i}",
            "title": t,
            "content_text": f"正文{i}：\x1b[1m粗体\x1b[0m\t制表\n第二行\x1b]52;c;cHduZWQ=\x07",
            "authors": [{"name": "[red]作者\x1b[5m"}],
        }
        for i, t in enumerate(TERMINAL_TITLES)
    ],
}
TERMINAL_PAGE = (
    "<html><head><meta charset='utf-8'><title>" + TERMINAL_TITLES[1] + "</title></head><body>"
    "<article><h1>" + TERMINAL_TITLES[1] + " " + TERMINAL_TITLES[0] + "</h1>"
    "<p class='author'>作者：[red]某网友\x1b[5m</p><p>"
    + "江西警察学院二食堂饭菜变质，多名同学腹泻，\x1b[1m学校至今没有回应\x1b[0m。\x07" * 6
    + "</p><p>第二段\x1b]52;c;cHduZWQ=\x07：希望尽快调查。[/x]</p></article></body></html>"
)
WRONG_TYPES_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "wrong types",
    "items": [
        {"id": "a", "url": "http://w.example/a", "title": ["a", "list"], "content_html": 5},
        {
            "id": 7,
            "url": 8,
            "title": {"x": 1},
            "content_text": None,
            "date_published": [2026],
            "author": "not-an-object",
            "authors": {"name": "x"},
        },
        "not an item",
    ],
}


@dataclass
class Resource:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def log_message(self, format, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (TimeoutError, ConnectionError, OSError):
            pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_POST(self):
        length = self.headers.get("Content-Length", "0")
        self.request_body = self.rfile.read(int(length)) if length.isdigit() else b""
        self.do_GET(method="POST")

    def do_GET(self, head: bool = False, method: str = "GET"):
        owner = self.server.owner
        with owner._lock:
            owner.log.append((method, self.path, {k.lower(): v for k, v in self.headers.items()}))
            owner.stamps.append((time.monotonic(), urlsplit(self.path).path))
            owner.hits[urlsplit(self.path).path] = owner.hits.get(urlsplit(self.path).path, 0) + 1
        parts = urlsplit(self.path)
        if parts.path.startswith("/hostile/"):
            return self._hostile(parts.path[len("/hostile/") :], parse_qs(parts.query))
        if parts.path == "/redirect":
            q = parse_qs(parts.query)
            return self._send(int(q.get("code", ["302"])[0]), b"", {"Location": q["to"][0]}, head)
        res = owner.resources.get(self.path) or owner.resources.get(parts.path)
        if res is None:
            return self._send(404, b"not found", {"Content-Type": "text/plain"}, head)
        if res.delay:
            time.sleep(res.delay)
        headers = dict(res.headers)
        if res.etag:
            headers["ETag"] = res.etag
        if res.last_modified:
            headers["Last-Modified"] = res.last_modified
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if (res.etag and inm == res.etag) or (
            not res.etag and res.last_modified and ims == res.last_modified
        ):
            return self._send(
                304, b"", {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}, head
            )
        self._send(res.status, res.body, headers, head)

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _hostile(self, name: str, q):
        if name == "hang":
            self.server.owner._stop.wait(60)
            self.close_connection = True
            return
        if name == "never-ending":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            while not self.server.owner._stop.is_set():
                self.wfile.write(b"<p>more</p>\n")
                self.wfile.flush()
                time.sleep(0.05)
            return
        if name == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<?xml version='1.0'?><rss><channel><title>cut")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if name == "broken-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\nZZZ-not-hex\r\nabc\r\n")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if name in ("gzip-bomb", "brotli-bomb"):
            kind = "gzip" if name.startswith("gzip") else "br"
            body = _bomb(kind)
            return self._send(200, body, {"Content-Type": "text/html", "Content-Encoding": kind})
        if name == "redirect-loop":
            n = int(q.get("n", ["0"])[0]) + 1
            return self._send(302, b"", {"Location": f"/hostile/redirect-loop?n={n}"})
        if name == "big":
            # ?nolength=1: no Content-Length (the body ends when the connection closes),
            # so a client cannot refuse it up front and must cut it while reading.
            nolength = q.get("nolength") == ["1"]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if nolength:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(_BIG_SIZE))
            self.end_headers()
            chunk = b"<p>" + b"x" * 65529 + b"</p>\n"
            sent = 0
            try:
                while sent < _BIG_SIZE:
                    piece = chunk[: _BIG_SIZE - sent]
                    self.wfile.write(piece)
                    sent += len(piece)
            except OSError:
                pass
            return
        if name in ("trickle-headers", "trickle-body"):
            return self._trickle(name == "trickle-headers", float(q.get("every", ["1"])[0]))
        if name == "redirect-data":
            return self._send(302, b"", {"Location": "data:text/html;base64,PGgxPnB3bmVkPC9oMT4="})
        if name == "redirect-bad":
            return self._send(302, b"", {"Location": "http://[::1"})
        if name == "json-deep":
            depth = int(q.get("depth", ["100000"])[0])
            body = (
                b'{"version": "https://jsonfeed.org/version/1.1", "title": "deep", "items": '
                + b"[" * depth
                + b"]" * depth
                + b"}"
            )
            return self._send(200, body, {"Content-Type": "application/feed+json"})
        if name == "json-wrong-types":
            return self._send(
                200,
                json.dumps(WRONG_TYPES_FEED).encode(),
                {"Content-Type": "application/feed+json"},
            )
        if name == "terminal-page":
            return self._send(
                200, TERMINAL_PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"}
            )
        if name == "terminal":
            return self._send(
                200, json.dumps(TERMINAL_FEED).encode(), {"Content-Type": "application/feed+json"}
            )
        self._send(404, b"no such hostile resource", {"Content-Type": "text/plain"})

    def _trickle(self, headers: bool, every: float) -> None:
        """One byte every ``every`` seconds until the client gives up (or the server
        stops): in the status line and headers, or in the body after whole headers."""
        stop = self.server.owner._stop
        if headers:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            pad = b"X-Pad: " + b"a" * 1_000_000
            data = head + pad
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.flush()
            data = b"<rss>" + b" " * 999_995
        self.close_connection = True
        try:
            for i in range(len(data)):
                if stop.wait(every):
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
        except OSError:
            return  # the client hung up: what a bounded client does


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    owner: LoopbackHTTPServer


class LoopbackHTTPServer:
    """A threaded HTTP server on 127.0.0.1 at a free port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.resources: dict[str, Resource] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.hits: dict[str, int] = {}
        self.stamps: list[tuple[float, str]] = []  # (time.monotonic(), path) of every request
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.owner = self
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- set-up ---------------------------------------------------------------
    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = "text/html; charset=utf-8",
        **kw,
    ) -> str:
        """Serve ``body`` at ``path``; returns the full URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        h = dict(headers or {})
        if content_type and not any(k.lower() == "content-type" for k in h):
            h["Content-Type"] = content_type
        self.resources[path] = Resource(body=body, status=status, headers=h, **kw)
        return self.url(path)

    def add_file(
        self,
        path: str,
        file: str | Path,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        **kw,
    ) -> str:
        return self.add(
            path, Path(file).read_bytes(), headers=headers, content_type=content_type, **kw
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def requests_to(self, path: str) -> int:
        with self._lock:
            return self.hits.get(path, 0)

    # -- life cycle -----------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
