"""Fixtures for notification tests: a real aiosmtpd server on 127.0.0.1, a config
pointing at it, and helpers that store incidents with matched posts."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from sentinel.config import Config
from storage.models import Incident, IncidentPost, Match, Post, Snapshot, Source


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """Records every message the server accepted; refuses addresses in ``refuse``."""

    def __init__(self):
        self.received: list[dict] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.on_accept = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": bytes(envelope.original_content or envelope.content),
                }
            )
        if self.on_accept:
            self.on_accept()
        return "250 Message accepted for delivery"

    def messages(self):
        return [
            email.message_from_bytes(m["data"], policy=email.policy.default) for m in self.received
        ]


class SmtpServer:
    """aiosmtpd's Controller on a fixed port, so it can be stopped and started again."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller = None

    def start(self):
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            ready_timeout=10,
        )
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    srv = SmtpServer()
    srv.start()
    yield srv
    srv.stop()


def make_config(port: int | None, **extra) -> Config:
    data = {
        "timezone": "Asia/Shanghai",
        "recipients": {
            "office": ["yuqing@example.edu.cn"],
            "leaders": ["leader@example.edu.cn"],
            "superior": ["duty@superior.example.gov.cn"],
        },
        **extra,
    }
    if port:
        data["smtp"] = {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from": "舆情监测 <yuqing@example.edu.cn>",
            "timeout": 5,
        }
    cfg = Config.model_validate(data)
    return cfg


def with_notify(cfg: Config, **notify) -> Config:
    """Config with a ``notify`` section (until Config has the key, set it as an attribute)."""
    from alerting.notify.settings import NotifySettings

    object.__setattr__(cfg, "notify", NotifySettings.model_validate(notify))
    return cfg


class World:
    """Stores sources, posts, matches and incidents for a test."""

    def __init__(self, db, now):
        self.db = db
        self.now = now
        self.n = 0

    def source(self, s, name="college-bar"):
        src = s.query(Source).filter_by(name=name).one_or_none()
        if src is None:
            src = Source(name=name, type="feed", state={})
            s.add(src)
            s.flush()
        return src

    def post(
        self,
        s,
        *,
        title="江西警察学院食堂饭菜里吃出虫子，请问学校怎么处理？",
        text="今天在江西警察学院二食堂吃饭，饭菜里吃出虫子，请问学校给个说法。投诉无门。",
        author="匿名网友",
        source="college-bar",
        hits=None,
        severity="III",
        category="inquiry",
        url=None,
    ):
        self.n += 1
        src = self.source(s, source)
        snap = Snapshot(
            source_id=src.id,
            url=f"https://forum.example.com/t/{self.n}",
            final_url=f"https://forum.example.com/t/{self.n}",
            sha256="ab" * 32,
            body=b"x",
            fetched_at=self.now(),
        )
        s.add(snap)
        s.flush()
        p = Post(
            source_id=src.id,
            url=url or f"https://forum.example.com/thread-{self.n}.html",
            title=title,
            text=text,
            author=author,
            fetched_at=self.now(),
            content_hash=f"{self.n:064d}",
            snapshot_id=snap.id,
        )
        s.add(p)
        s.flush()
        if hits is None:
            hits = []
            for term, topic in (
                ("江西警察学院", None),
                ("食堂", "canteen"),
                ("虫子", "canteen"),
                ("投诉", "inquiry"),
            ):
                i = text.find(term)
                if i >= 0:
                    hits.append(
                        {
                            "term": term,
                            "kind": "exact",
                            "start": i,
                            "end": i + len(term),
                            "topic": topic,
                            "weight": 10,
                            "field": "text",
                        }
                    )
        m = Match(
            post_id=p.id,
            mentioned=True,
            alert=True,
            score=70,
            severity=severity,
            category=category,
            entities=["江西警察学院"],
            hits=hits,
            reasons=[],
            matched_at=self.now(),
        )
        s.add(m)
        s.flush()
        return p, m

    def incident(self, s, pm, *, severity="III", category="inquiry", title=None):
        p, m = pm
        inc = Incident(
            title=title or p.title,
            severity=severity,
            category=category,
            score=m.score,
            opened_at=self.now(),
            updated_at=self.now(),
            first_post_id=p.id,
            terms=["食堂", "虫子"],
            post_count=1,
            site_count=1,
            last_post_at=self.now(),
        )
        s.add(inc)
        s.flush()
        s.add(IncidentPost(incident_id=inc.id, post_id=p.id, added_at=self.now()))
        s.flush()
        return inc

    def join(self, s, inc, pm):
        s.add(IncidentPost(incident_id=inc.id, post_id=pm[0].id, added_at=self.now()))
        inc.post_count += 1
        s.flush()


@pytest.fixture
def world(db, clock):
    return World(db, clock.now)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


__all__ = [
    "UTC",
    "Mailbox",
    "SmtpServer",
    "World",
    "datetime",
    "free_port",
    "make_config",
    "parse",
    "with_notify",
]
