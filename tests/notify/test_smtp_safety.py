"""SMTP against hostile or careless set-ups: no password over plain TCP unless the config
says so, and a server that trickles its answers costs at most ``smtp.timeout``."""

from __future__ import annotations

import time

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from demo.mailbox import Mailbox
from sentinel.cli import cli
from storage.models import OutboxMessage
from tests.notify.conftest import make_config
from tests.servers.smtp import TricklingSMTPServer

LOGIN, PASSWORD = "yuqing@example.edu.cn", "pa55-s3cret"


def _smtp(port: int, **extra) -> dict:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "舆情监测 <yuqing@example.edu.cn>",
        "timeout": 2,
        **extra,
    }


def _queue_alert(db, clock, world, cfg) -> Outbox:
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    return outbox


def _email(db) -> OutboxMessage:
    with db.session() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).first()


def test_the_password_never_goes_over_plain_tcp_without_allow_plaintext_auth(
    db, clock, world, tmp_path, monkeypatch
):
    monkeypatch.setenv("SENTINEL_SMTP_PASSWORD", PASSWORD)
    with Mailbox(
        tmp_path / "mail", username=LOGIN, password=PASSWORD
    ) as box:  # offers AUTH in plain
        outbox = _queue_alert(
            db, clock, world, make_config(None, smtp=_smtp(box.port, username=LOGIN))
        )
        assert outbox.drain()["deferred"] >= 1
        assert box.auth_attempts == [] and box.deliveries == []  # not even tried
        msg = _email(db)
        assert msg.status == "pending" and "allow_plaintext_auth" in msg.last_error
        # Said explicitly: then it logs in and sends.
        cfg = make_config(None, smtp=_smtp(box.port, username=LOGIN, allow_plaintext_auth=True))
        clock.advance(minutes=5)
        assert Outbox(db, cfg, now=clock.now).drain()["sent"] >= 1
        assert box.auth_attempts == [(LOGIN, True)] and box.deliveries


def test_config_check_warns_about_a_login_over_plain_tcp(tmp_path):
    p = tmp_path / "sentinel.yaml"
    p.write_text(
        yaml.safe_dump(
            {"database": f"sqlite:///{tmp_path / 'db.sqlite'}", "smtp": _smtp(25, username=LOGIN)}
        ),
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["--config", str(p), "config", "check"]).output
    assert "警告" in out and "拒绝登录" in out and "allow_plaintext_auth" in out
    p.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "smtp": _smtp(25, username=LOGIN, allow_plaintext_auth=True),
            }
        ),
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["--config", str(p), "config", "check"]).output
    assert "明文" in out and "拒绝登录" not in out


def test_an_smtp_server_trickling_its_greeting_costs_at_most_the_timeout(db, clock, world):
    with TricklingSMTPServer(every=0.5) as srv:  # no read ever waits 2 s: only a deadline stops it
        outbox = _queue_alert(db, clock, world, make_config(None, smtp=_smtp(srv.port)))
        t = time.monotonic()
        stats = outbox.drain()
        took = time.monotonic() - t
        print(f"\nSMTP greeting trickle: stopped after {took:.2f} s (smtp.timeout 2 s)")
        assert took < 3.5 and stats["sent"] == 0
        assert srv.connections == 1  # the server is unreachable: the rest of the batch waits
    msg = _email(db)
    assert "2 秒内未完成" in msg.last_error and "\n" not in msg.last_error
