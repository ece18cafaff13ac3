"""Delivery guarantees: stored before sent, retried with backoff, sent once, failures shown."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from alerting.compose.notice import incident_notice
from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from storage.models import OutboxMessage
from tests.notify.conftest import SmtpServer, free_port, make_config, parse, with_notify

ROOT = Path(__file__).resolve().parents[2]


def test_fifty_alerts_raised_while_server_down_each_arrive_exactly_once(db, clock, world):
    port = free_port()
    cfg = make_config(port)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        for i in range(50):
            pm = world.post(s, title=f"江西警察学院第{i}号帖：食堂问题")
            inc = world.incident(s, pm)
            incident_alerts.opened(s, outbox, inc, [pm])
    drains = []
    # The server is down: nothing is lost, nothing is marked sent, backoff grows.
    for _ in range(4):
        drains.append(outbox.drain())
        clock.advance(minutes=10)
    assert all(d["sent"] == 0 for d in drains)
    with db.session() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert len(rows) == 50 and {r.status for r in rows} <= {"pending", "retry"}
        first = s.get(OutboxMessage, rows[0].id)
        assert first.attempts >= 2 and "无法连接" in first.last_error
    server = SmtpServer(port)
    server.start()
    try:
        clock.advance(hours=2)  # past the longest backoff
        result = outbox.drain()
        again = outbox.drain()
        received = server.mailbox.messages()
    finally:
        server.stop()
    ids = collections.Counter(m["Message-ID"] for m in received)
    print(
        f"\n50 alerts while the server was down: drains while down {drains}; "
        f"after it came up {result}; then {again}; received {len(received)} mails, "
        f"{len(ids)} distinct Message-IDs, max copies of one {max(ids.values())}"
    )
    assert result["sent"] == 50 and again["sent"] == 0
    assert len(received) == 50 and len(ids) == 50 and max(ids.values()) == 1
    with db.session() as s:
        assert {r.status for r in s.scalars(select(OutboxMessage))} == {"sent"}


def test_retries_back_off_exponentially(db, clock, world):
    cfg = with_notify(make_config(free_port()), retry_base="30s", retry_max="10m")
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    waits = []
    for _ in range(6):
        outbox.drain()
        with db.session() as s:
            m = s.scalar(select(OutboxMessage))
            wait = (m.next_attempt_at - clock.now()).total_seconds()
        waits.append(round(wait))
        clock.t = m.next_attempt_at
    print(f"\nbackoff waits (s): {waits}")
    assert waits[0] >= 30 and waits[1] >= 60 and waits[2] >= 120 and waits[3] >= 240
    assert all(w <= 660 for w in waits) and waits[-1] >= 600


def test_refused_address_is_a_permanent_failure_shown_in_status(db, clock, world, smtp_server):
    smtp_server.mailbox.refuse.add("leader@example.edu.cn")
    cfg = make_config(smtp_server.port, recipients={"office": ["leader@example.edu.cn"]})
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    assert outbox.drain() == {"sent": 0, "failed": 1, "retry": 0, "deferred": 0}
    st = outbox.status()
    assert (
        st["failed"] == 1
        and "550" in st["failures"][0]
        and "leader@example.edu.cn" in st["failures"][0]
    )
    clock.advance(days=1)
    assert outbox.drain()["failed"] == 0  # never tried again by itself
    assert smtp_server.mailbox.received == []
    print(f"\npermanent failure in status: {st['failures'][0]}")


def test_partly_refused_recipients_still_count_as_sent(db, clock, world, smtp_server):
    smtp_server.mailbox.refuse.add("leader@example.edu.cn")
    cfg = make_config(
        smtp_server.port, recipients={"office": ["yuqing@example.edu.cn", "leader@example.edu.cn"]}
    )
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    assert outbox.drain()["sent"] == 1
    with db.session() as s:
        m = s.scalar(select(OutboxMessage))
        assert m.status == "sent" and "leader@example.edu.cn" in m.last_error
    assert smtp_server.mailbox.received[0]["to"] == ["yuqing@example.edu.cn"]


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime, timezone
    sys.path.insert(0, {root!r})
    from alerting.notify.channels.smtp import SmtpChannel
    from alerting.notify.outbox import Outbox
    from sentinel.config import Config
    from storage.db import Database

    original = SmtpChannel.send
    def send_then_die(self, message):
        note = original(self, message)      # the server has accepted the message...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before the mark
        return note
    SmtpChannel.send = send_then_die

    cfg = Config.model_validate({{"smtp": {{"host": "127.0.0.1", "port": {port}, "from": "舆情监测 <yuqing@example.edu.cn>"}},
                                 "recipients": {{"office": ["yuqing@example.edu.cn"]}}}})
    now = datetime.fromisoformat({now!r})
    Outbox(Database({url!r}), cfg, now=lambda: now).drain()
    """
)


def test_sigkill_between_acceptance_and_mark_resends_same_message_id(
    db, db_url, clock, world, smtp_server
):
    cfg = make_config(smtp_server.port)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD.format(
                root=str(ROOT), port=smtp_server.port, url=db_url, now=clock.now().isoformat()
            ),
        ],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(smtp_server.mailbox.received) == 1
    with db.session() as s:
        m = s.scalar(select(OutboxMessage))
        assert m.status == "sending"  # accepted by the server, not yet marked
        stored = m.body
    # Restarted: within the lease nothing is sent (the crashed sender might still be working)...
    assert outbox.drain()["sent"] == 0
    # ...after it, the very same bytes go out again.
    clock.advance(seconds=outbox.settings.send_lease + 1)
    assert outbox.drain()["sent"] == 1
    assert outbox.drain()["sent"] == 0
    got = smtp_server.mailbox.received
    ids = {parse(g["data"])["Message-ID"] for g in got}
    print(
        f"\nSIGKILL after acceptance: child exit {child.returncode}; server received {len(got)} copies, "
        f"{len(ids)} distinct Message-ID {ids}; identical bytes: {got[0]['data'] == got[1]['data']}"
    )
    assert len(got) == 2 and len(ids) == 1
    assert got[0]["data"] == got[1]["data"]
    assert stored.replace(b"\r\n", b"\n") == got[0]["data"].replace(b"\r\n", b"\n")
    with db.session() as s:
        assert s.scalar(select(OutboxMessage)).status == "sent"


def test_without_smtp_messages_wait_in_the_outbox(db, clock, world):
    outbox = Outbox(db, make_config(None), now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    assert outbox.drain()["deferred"] == 1
    with db.session() as s:
        m = s.scalar(select(OutboxMessage))
        assert m.status == "pending" and m.attempts == 0 and "smtp" in m.last_error


def test_same_key_twice_queues_one_message(db, clock, world):
    cfg = make_config(None)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        inc = world.incident(s, pm)
        spec = incident_notice(
            key="overdue:1:reply",
            kind="overdue",
            to=["office"],
            subject="【逾期提醒】答复已逾期",
            heading="逾期提醒",
            incident=inc,
            config=cfg,
        )
        assert outbox.queue(s, spec) is not None
        assert outbox.queue(s, spec) is None
    with db.session() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1


def test_repeat_interval_limits_reminders(db, clock, world):
    cfg = with_notify(make_config(None), repeat_interval="4h")
    outbox = Outbox(db, cfg, now=clock.now)
    queued = []
    with db.session() as s:
        inc = world.incident(s, world.post(s))
        inc_id = inc.id
    for minute in range(0, 9 * 60, 30):  # a tick asks every 30 minutes for 9 hours
        with db.session() as s:
            from storage.models import Incident

            m = outbox.queue(
                s,
                incident_notice(
                    key=f"reminder:incident:{inc_id}",
                    kind="reminder",
                    to=["office"],
                    subject="【催办】事件尚未确认",
                    heading="催办提醒",
                    incident=s.get(Incident, inc_id),
                    config=cfg,
                    repeat=True,
                ),
            )
            queued.append(m is not None)
        clock.advance(minutes=30)
    print(
        f"\nrepeat interval 4h, asked {len(queued)} times over 9 h: {sum(queued)} reminders queued"
    )
    assert sum(queued) == 3
