"""``CampusWorld``: the simulated campus web, served over HTTP on 127.0.0.1.

One ``ThreadingHTTPServer`` on a free port serves three sites and a feed (see
``demo.sites``), ``/robots.txt`` (everything allowed) and an index page at ``/``.
Posts become visible when their time in the scenario has come: before that their
pages answer 404 and they are missing from list pages and the feed.

Time: the world's clock gives real seconds since start (``time.monotonic`` by
default, or an injected ``clock`` that tests move by hand); scenario time is that
times ``speed``. Publication times shown on pages are wall times in Asia/Shanghai:
``epoch`` (the wall time at start) plus the post's offset in real seconds.

    with CampusWorld(speed=2) as world:
        print(world.base_url, world.urls)
        cfg = world.sentinel_config(Path("var/demo"), smtp_port=2525)
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from demo import sites
from demo.scenario import Scenario, ScenarioPost, default_scenario

TZ = ZoneInfo("Asia/Shanghai")

_FORUM_LIST = re.compile(r"^/forum/forum-2-(\d+)\.html$")
_FORUM_THREAD = re.compile(r"^/forum/thread-(\d+)-1-1\.html$")
_NEWS_ARTICLE = re.compile(r"^/news/info/(\d+)\.htm$")
_TIEBA_LIST = re.compile(r"^/tieba/list-(\d+)\.html$")
_TIEBA_THREAD = re.compile(r"^/tieba/p/(\d+)$")

ROBOTS = b"User-agent: *\nAllow: /\n"


class Response:
    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.body = body
        self.headers = {"Content-Type": content_type, **(headers or {})}


class CampusWorld:
    """The demo's campus web. Start it, point sentinel at ``sentinel_config()``, stop it."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        epoch: datetime | None = None,
    ):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.scenario = scenario or default_scenario()
        self.speed = float(speed)
        self.host = host
        self._port = port
        self._clock = clock
        self._t0: float | None = None
        self._epoch = epoch
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Each site on its own loopback address, as on the real web (127.0.0.0/8 is all
        # loopback on Linux), so "how many sites carry the story" means something.
        self.site_hosts = {"forum": host, "news": host, "tieba": host}
        if host == "127.0.0.1":
            self.site_hosts.update(news="127.0.0.2", tieba="127.0.0.3")
        self._extra: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        # A restart (site down, then up) keeps the port, the epoch and the timeline.
        if self._epoch is None:
            self._epoch = datetime.now(TZ).replace(microsecond=0)
        if self._t0 is None:
            self._t0 = time.monotonic()
        world = self

        class Handler(_Handler):
            pass

        Handler.world = world
        self._server = ThreadingHTTPServer((self.host, self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="campus-world", daemon=True
        )
        self._thread.start()
        for site, h in list(self.site_hosts.items()):
            if h == self.host or any(srv.server_address[0] == h for srv, _ in self._extra):
                continue
            try:
                srv = ThreadingHTTPServer((h, self._port), Handler)
            except OSError:  # address not usable here: serve that site from the main host
                self.site_hosts[site] = self.host
                continue
            srv.daemon_threads = True
            t = threading.Thread(target=srv.serve_forever, name=f"campus-world-{site}", daemon=True)
            t.start()
            self._extra.append((srv, t))
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for srv, t in self._extra:
            srv.shutdown()
            srv.server_close()
            t.join(timeout=5)
        self._extra = []
        # Kept-alive connections would otherwise go on being served by their threads.
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- addresses ----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None and not self._port:
            raise RuntimeError("the world is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def site_url(self, site: str) -> str:
        """The base URL of one site (forum, news, tieba): each has its own address."""
        return f"http://{self.site_hosts[site]}:{self.port}"

    @property
    def urls(self) -> dict[str, str]:
        """Entry points: forum, news, rss, tieba, robots, index."""
        b = self.base_url
        return {
            "index": b + "/",
            "forum": self.site_url("forum") + "/forum/forum-2-1.html",
            "news": self.site_url("news") + "/news/",
            "rss": self.site_url("news") + "/news/rss.xml",
            "tieba": self.site_url("tieba") + "/tieba/list-1.html",
            "robots": b + "/robots.txt",
        }

    def post_url(self, post: ScenarioPost | str) -> str:
        """Where a scenario post is (or will be) served."""
        if isinstance(post, str):
            post = self.scenario.post(post)
        b = self.site_url(post.site)
        if post.site == "forum":
            return f"{b}/forum/thread-{post.id}-1-1.html"
        if post.site == "news":
            return f"{b}/news/info/{post.id}.htm"
        return f"{b}/tieba/p/{post.id}"

    # -- time ---------------------------------------------------------------------
    def real_elapsed(self) -> float:
        """Real seconds since start (from the injected clock when there is one)."""
        if self._clock is not None:
            return float(self._clock())
        if self._t0 is None:
            return 0.0
        return time.monotonic() - self._t0

    def elapsed(self) -> float:
        """Scenario seconds since start."""
        return self.real_elapsed() * self.speed

    @property
    def epoch(self) -> datetime:
        """Wall time (Asia/Shanghai) at the world's start."""
        if self._epoch is None:
            return datetime.now(TZ).replace(microsecond=0)
        return self._epoch

    def now(self) -> datetime:
        """The world's wall time."""
        return self.epoch + timedelta(seconds=self.real_elapsed())

    def published_at(self, post: ScenarioPost | str) -> datetime:
        """When a post is shown as published (wall time, Asia/Shanghai)."""
        if isinstance(post, str):
            post = self.scenario.post(post)
        return self.epoch + timedelta(seconds=post.appear_after / self.speed - post.age)

    def visible(self, site: str | None = None) -> list[ScenarioPost]:
        """Posts visible now, newest first."""
        return self.scenario.visible(self.elapsed(), site)

    def is_visible(self, post: ScenarioPost | str) -> bool:
        if isinstance(post, str):
            post = self.scenario.post(post)
        return post.appear_after <= self.elapsed()

    def _view(self, site: str) -> sites.View:
        return sites.View(posts=self.visible(site), now=self.now(), published=self.published_at)

    # -- the demo's configuration ---------------------------------------------------
    def sentinel_config(self, var_dir: Path, smtp_port: int, *, delay: float | None = None) -> dict:
        """A complete sentinel.yaml (as a dict) watching this world and mailing to 127.0.0.1.

        ``delay`` sets every source's politeness delay between requests to one host (the
        sources' default when ``None``); tests that do not need it pass ``0``."""
        var_dir = Path(var_dir).resolve()
        cfg = self._config(var_dir, smtp_port)
        if delay is not None:
            for src in cfg["sources"]:
                src["delay"] = delay
        return cfg

    def _config(self, var_dir: Path, smtp_port: int) -> dict:
        from demo.config import demo_config

        return demo_config(self, var_dir, smtp_port)

    # -- routing ------------------------------------------------------------------
    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        """The response to one request (also usable without a socket)."""
        path = unquote(urlsplit(path).path)
        if path == "/robots.txt":
            return Response(200, ROBOTS, "text/plain; charset=utf-8")
        if path in ("/", "/index.html"):
            return _utf8(sites.index(self.base_url))
        if path in ("/forum", "/forum/", "/forum/index.php"):
            return Response(301, b"", headers={"Location": "/forum/forum-2-1.html"})
        if m := _FORUM_LIST.match(path):
            html = sites.forum_list(self._view("forum"), int(m.group(1)))
            return _gbk(html) if html is not None else _not_found()
        if m := _FORUM_THREAD.match(path):
            post = self._visible_post("forum", int(m.group(1)))
            if post is None:
                return _gbk(_DISCUZ_MISSING, status=404)
            return _gbk(sites.forum_thread(self._view("forum"), post))
        if path in ("/news", "/news/", "/news/index.html"):
            return _utf8(sites.news_index(self._view("news")))
        if m := _NEWS_ARTICLE.match(path):
            post = self._visible_post("news", int(m.group(1)))
            return _utf8(sites.news_article(self._view("news"), post)) if post else _not_found()
        if path == "/news/rss.xml":
            return self._rss(headers)
        if path in ("/tieba", "/tieba/"):
            return Response(301, b"", headers={"Location": "/tieba/list-1.html"})
        if m := _TIEBA_LIST.match(path):
            html = sites.tieba_list(self._view("tieba"), int(m.group(1)))
            return _utf8(html) if html is not None else _not_found()
        if m := _TIEBA_THREAD.match(path):
            post = self._visible_post("tieba", int(m.group(1)))
            return _utf8(sites.tieba_thread(self._view("tieba"), post)) if post else _not_found()
        return _not_found()

    def _visible_post(self, site: str, post_id: int) -> ScenarioPost | None:
        post = self.scenario.find(site, post_id)
        if post is None or not self.is_visible(post):
            return None
        return post

    def _rss(self, headers: dict[str, str]) -> Response:
        view = self._view("news")
        body = sites.rss(view, self.site_url("news")).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = sites.rss_last_modified(view)
        cache = {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)}
        if _not_modified(headers, etag, last_modified):
            return Response(304, b"", "application/rss+xml; charset=utf-8", cache)
        return Response(200, body, "application/rss+xml; charset=utf-8", cache)


def _not_modified(headers: dict[str, str], etag: str, last_modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since is None or since.tzinfo is None:
            return False
        return last_modified <= since
    return False


_DISCUZ_MISSING = (
    '<!DOCTYPE html>\n<html><head><meta charset="gbk" /><title>提示信息 - 警院论坛</title></head>\n'
    '<body><div id="messagetext" class="alert_error"><p>抱歉，指定的主题不存在或已被删除或正在被审核</p>'
    '<p class="alert_btnleft"><a href="forum-2-1.html">[ 点击这里返回上一页 ]</a></p></div></body></html>\n'
)


def _gbk(html: str, status: int = 200) -> Response:
    return Response(status, html.encode("gbk"), "text/html; charset=gbk")


def _utf8(html: str, status: int = 200) -> Response:
    return Response(status, html.encode("utf-8"), "text/html; charset=utf-8")


def _not_found() -> Response:
    return _utf8(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
        "<body><h1>404 页面不存在</h1></body></html>\n",
        status=404,
    )


class _Handler(BaseHTTPRequestHandler):
    world: CampusWorld
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30  # idle kept-alive connections are closed after this

    def setup(self) -> None:
        super().setup()
        with self.world._lock:
            self.world._connections.add(self.connection)

    def finish(self) -> None:
        with self.world._lock:
            self.world._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _serve(self, send_body: bool) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.world._lock:
            self.world.requests.append((self.command, self.path, dict(self.headers.items())))
        try:
            resp = self.world.respond(self.command, self.path, headers)
        except Exception as exc:
            resp = Response(500, f"internal error: {exc}".encode(), "text/plain; charset=utf-8")
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.status != 304:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if send_body and resp.status != 304:
            self.wfile.write(resp.body)

    def do_GET(self) -> None:
        self._serve(True)

    def do_HEAD(self) -> None:
        self._serve(False)

    def log_message(self, format: str, *args) -> None:  # quiet: requests are kept in world.requests
        pass
