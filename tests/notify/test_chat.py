"""Chat webhooks through Apprise, against a local HTTP server standing in for DingTalk,
WeCom and Feishu (their public endpoints are pointed at 127.0.0.1 for the test)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import select

from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from storage.models import OutboxMessage
from tests.notify.conftest import make_config, with_notify


class Hook(BaseHTTPRequestHandler):
    calls: ClassVar[list] = []
    fail = False

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.calls.append((self.path, json.loads(body.decode("utf-8"))))
        if Hook.fail:
            self.send_response(500)
            self.end_headers()
            return
        reply = b'{"errcode":0,"errmsg":"ok","code":0,"StatusCode":0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *a):
        pass


@pytest.fixture
def hook_server(monkeypatch):
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.wecombot import NotifyWeComBot

    Hook.calls, Hook.fail = [], False
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    # Stand-ins for the internet: the services' fixed endpoints now point at loopback.
    monkeypatch.setattr(
        NotifyDingTalk, "notify_url", base + "/dingtalk/robot/send?access_token={token}"
    )
    monkeypatch.setattr(NotifyWeComBot, "notify_url", base + "/wecom/webhook/send?key={key}")
    monkeypatch.setattr(NotifyFeishu, "notify_url", base + "/feishu/hook/{token}/")
    yield base
    srv.shutdown()


def test_alert_goes_to_dingtalk_wecom_and_feishu_per_group(
    db, clock, world, hook_server, monkeypatch
):
    monkeypatch.setenv("DINGTALK_TOKEN", "a" * 64)
    cfg = with_notify(
        make_config(None),
        channels={
            "office": ["dingtalk://${DINGTALK_TOKEN}/", "wecombot://wecomkey123/"],
            "leaders": ["feishu://feishutoken123/"],
        },
        routes=[{"to": ["office", "leaders"]}],
    )
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    stats = outbox.drain()
    paths = sorted(p.split("/")[1] for p, _ in Hook.calls)
    print(f"\nchat webhooks: {stats}; local stand-in received {paths}")
    assert paths == ["dingtalk", "feishu", "wecom"]
    assert stats["sent"] == 3 and stats["deferred"] == 1  # e-mail waits: no smtp configured
    for path, payload in Hook.calls:
        assert "舆情预警" in json.dumps(payload, ensure_ascii=False)
    assert any(("a" * 64) in p for p, _ in Hook.calls)  # token from the environment
    with db.session() as s:
        chat = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "chat")).all()
        assert len(chat) == 3 and all(("a" * 64).encode() not in m.body for m in chat)


def test_failing_webhook_is_retried_without_repeating_others(db, clock, world, hook_server):
    cfg = with_notify(make_config(None), channels={"office": ["wecombot://k1/", "feishu://t1/"]})
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    Hook.fail = True
    first = outbox.drain()
    assert first["sent"] == 0 and first["retry"] == 2
    Hook.fail = False
    clock.advance(minutes=5)
    second = outbox.drain()
    assert second["sent"] == 2
    clock.advance(hours=1)
    assert outbox.drain()["sent"] == 0


def test_a_webhook_that_trickles_its_answer_is_cut_off_at_webhook_timeout(
    db, clock, world, monkeypatch
):
    import time

    from apprise.plugins.dingtalk import NotifyDingTalk

    from tests.servers.http import LoopbackHTTPServer

    with LoopbackHTTPServer() as srv:
        # Headers one byte every 0.5 s: Apprise's own 4 s read timeout never fires.
        monkeypatch.setattr(
            NotifyDingTalk,
            "notify_url",
            srv.url("/hostile/trickle-headers") + "?every=0.5&access_token={token}",
        )
        cfg = with_notify(
            make_config(None),
            channels={"office": ["dingtalk://" + "b" * 64 + "/"]},
            webhook_timeout=2,
        )
        outbox = Outbox(db, cfg, now=clock.now)
        with db.session() as s:
            pm = world.post(s)
            incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
        import apprise

        # Apprise loads its plug-ins on first use (a second or more on a busy machine):
        # not the server's cost, so not on the clock.
        apprise.Apprise().add("dingtalk://" + "b" * 64 + "/")
        t = time.monotonic()
        stats = outbox.drain()
        took = time.monotonic() - t
        print(f"\nwebhook header trickle: stopped after {took:.2f} s (webhook_timeout 2 s)")
        assert took < 3.5
        assert stats["retry"] == 1 and stats["sent"] == 0
        assert srv.requests_to("/hostile/trickle-headers") == 1
    with db.session() as s:
        [chat] = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "chat")).all()
        assert "2 秒内未完成" in (chat.last_error or "") and "\n" not in chat.last_error
