"""The web console beside the demo, with people to log in as.

``sentinel demo`` serves the console on 127.0.0.1 (port 8080 unless it is taken, then any
free one) so that the office can try what it will use: the queue, an incident worked to
closed, the one-tap links the demo's mails carry. The demo's people are made in its fresh
database with one shared password, printed in the banner; nothing here is for a real
deployment (``sentinel user add`` and ``user passwd`` are).
"""

from __future__ import annotations

import socket
import threading
import time

from core.errors import SentinelError

PASSWORD = "demo-2026"

# Who the demo's mail goes to (demo/config.py), as people of the console.
PEOPLE = [
    ("赵敏", "office", "yuqing@jxpc.example.edu.cn", None),
    ("李书记", "leader", "leader@jxpc.example.edu.cn", None),
    ("后勤处信息员", "unit", "houqin@jxpc.example.edu.cn", "后勤处"),
]


def free_port(preferred: int) -> int:
    """``preferred`` when nobody listens there, else a free port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise SentinelError("127.0.0.1 上没有可用端口，控制台无法启动")


def add_people(db) -> None:
    from alerting.incidents import users

    with db.session() as s:
        for name, role, email, unit in PEOPLE:
            users.add(s, name, role=role, email=email, unit=unit)
            users.set_password(s, name, PASSWORD)


class DemoConsole:
    """uvicorn serving ``sentinel.web.create_app`` in a thread, until ``stop()``."""

    def __init__(self, config, db, port: int):
        import uvicorn

        from sentinel.web import create_app

        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, db),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                server_header=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="demo-console", daemon=True)

    def start(self) -> DemoConsole:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise SentinelError(
                    f"控制台未能在 {self.url} 启动（端口可能刚被占用）；可用 --console-port 另选端口"
                )
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
