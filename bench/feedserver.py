"""A feed server in a process of its own, for the daemon benchmarks (it must not share
the measured process's interpreter lock): ``python -m bench.feedserver N [H]`` serves N
feeds at ``/feed/{i}.xml`` with ETags (an unchanged feed answers 304) on H loopback
hosts, and prints each host's ``address:port``.

``GET /_change?every=K`` gives every K-th feed a new version (ten new items);
``GET /_count`` tells how many feed requests came, per feed as JSON with ``?per=1``;
``GET /_cpu`` the server's CPU seconds so far (user + system), so a benchmark can tell
its own cost from the server's on a shared machine.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WORDS = [
    "学院",
    "图书馆",
    "食堂",
    "操场",
    "宿舍",
    "教学楼",
    "实验室",
    "礼堂",
    "校医院",
    "体育馆",
    "招生",
    "就业",
    "考试",
    "讲座",
    "比赛",
    "志愿者",
    "社团",
    "毕业",
    "开学",
    "军训",
    "奖学金",
    "课程",
    "教师",
    "学生",
    "校友",
    "研讨会",
    "运动会",
    "文艺",
    "安全",
    "讲堂",
]


def text(seed: int, n: int = 24) -> str:
    """A news-like text that differs from one item to the next (no near-duplicates)."""
    out, x = [], seed * 2654435761 % 2**32
    for _ in range(n):
        x = (x * 1103515245 + 12345) % 2**31
        out.append(WORDS[x % len(WORDS)])
    return "，".join(out) + "。"


def feed(i: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>学院新闻 {i}-{version}-{k}</title><link>http://news{i}.example.edu.cn/{version}/{k}</link>"
        f"<description>{text(i * 1000 + version * 10 + k)}</description>"
        f"<pubDate>Mon, 23 Nov 2026 08:{k:02d}:00 +0800</pubDate></item>"
        for k in range(10)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {i}</title>'
        f"{items}</channel></rss>"
    ).encode()


class State:
    def __init__(self, n: int):
        self.versions = [1] * n
        self.hits = [0] * n
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        parts = urlsplit(self.path)
        if parts.path.startswith("/feed/"):
            i = int(parts.path[6:].split(".")[0])
            with st.lock:
                st.hits[i] += 1
                version = st.versions[i]
            etag = f'"{i}-{version}"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, headers={"ETag": etag})
            return self._send(
                200, feed(i, version), {"Content-Type": "application/rss+xml", "ETag": etag}
            )
        q = parse_qs(parts.query)
        if parts.path == "/_change":
            every = int(q.get("every", ["100"])[0])
            with st.lock:
                for i in range(0, len(st.versions), every):
                    st.versions[i] += 1
            return self._send(200, b"ok")
        if parts.path == "/_cpu":
            t = os.times()
            return self._send(200, str(t.user + t.system).encode())
        if parts.path == "/_count":
            with st.lock:
                body = json.dumps(st.hits if q.get("per") else sum(st.hits)).encode()
            return self._send(200, body, {"Content-Type": "application/json"})
        self._send(404, b"not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    state: State


def main(argv: list[str]) -> None:
    """``N [H]``: N feeds, served on H loopback hosts (127.0.0.1 to 127.0.0.H, each on a
    port of its own, all of one state); prints each host's ``address:port`` on a line."""
    state = State(int(argv[0]))
    servers = []
    for h in range(int(argv[1]) if len(argv) > 1 else 1):
        srv = Server((f"127.0.0.{h + 1}", 0), Handler)
        srv.state = state
        servers.append(srv)
    print(" ".join(f"{a}:{p}" for a, p in (srv.server_address for srv in servers)), flush=True)
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
