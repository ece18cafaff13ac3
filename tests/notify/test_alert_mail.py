"""The first alert of an incident goes out at once as a readable Chinese e-mail."""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from email.parser import BytesParser

from sqlalchemy import select

from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from storage.models import IncidentPost, OutboxMessage
from tests.notify.conftest import make_config


def test_new_incident_alert_arrives_as_html_and_text(db, clock, world, smtp_server):
    cfg = make_config(smtp_server.port, console_url="https://yuqing.example.edu.cn")
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s)
        inc = world.incident(s, pm)
        msg = incident_alerts.opened(s, outbox, inc, [pm])
        assert msg is not None and msg.status == "pending"
        inc_id = inc.id
    stats = outbox.drain()
    assert stats["sent"] == 1, stats
    [got] = smtp_server.mailbox.received
    assert got["to"] == ["yuqing@example.edu.cn"]
    m = email.message_from_bytes(got["data"], policy=email.policy.default)
    subject = m["Subject"]
    assert (
        subject
        == "【舆情预警】【Ⅲ级 较大】【询问质疑诉求】江西警察学院食堂饭菜里吃出虫子，请问学校怎么处理？"
    )
    print(f"\nsubject on the wire: {m.get('Subject')!r} → decoded {subject}")
    assert m.get_content_type() == "multipart/alternative"
    html = m.get_body(("html",)).get_content()
    text = m.get_body(("plain",)).get_content()
    assert re.search(r"<mark[^>]*>食堂</mark>", html) and re.search(r"<mark[^>]*>虫子</mark>", html)
    # Styled inline too, for webmail that drops <style>.
    assert re.search(r'<mark style="[^"]*background: #ffe082', html)
    assert "【食堂】" in text
    assert "https://forum.example.com/thread-1.html" in html
    assert f"https://yuqing.example.edu.cn/incidents/{inc_id}" in html
    assert "存证快照" in html and "snapshots/" in html
    assert "当日内给出处理意见" in text
    assert m["Message-ID"] == f"<sentinel.incident-{inc_id}@example.edu.cn>"
    assert m["Date"]
    assert str(m["From"].addresses[0].display_name) == "舆情监测"
    with db.session() as s:
        row = s.scalar(select(OutboxMessage))
        assert row.status == "sent" and row.attempts == 1
        # What was sent is byte for byte what was stored before the attempt.
        assert row.body == got["data"] or row.body.replace(b"\r\n", b"\n") == got["data"].replace(
            b"\r\n", b"\n"
        )
        assert all(ip.notified for ip in s.scalars(select(IncidentPost)))
    # A second drain sends nothing; queueing the same incident again stores nothing.
    assert outbox.drain()["sent"] == 0
    with db.session() as s:
        from storage.models import Incident

        assert incident_alerts.opened(s, outbox, s.get(Incident, inc_id), []) is None
    assert len(smtp_server.mailbox.received) == 1


def test_chinese_subject_decodes_back_exactly_with_stdlib(db, clock, world, smtp_server):
    title = "关于江西警察学院“食堂涨价”一事的质疑——学生们：给个说法！（附图）"
    cfg = make_config(smtp_server.port)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm = world.post(s, title=title)
        inc = world.incident(s, pm, severity="I", category="hype")
        incident_alerts.opened(s, outbox, inc, [pm])
    outbox.drain()
    raw = smtp_server.mailbox.received[0]["data"]
    # The header on the wire is pure ASCII (RFC 2047 encoded words)...
    wire = BytesParser(policy=email.policy.compat32).parsebytes(raw)["Subject"]
    assert all(ord(c) < 128 for c in str(wire))
    # ...and decodes back to exactly the subject we wrote, with either parser API
    # (a Ⅰ incident's subject starts with 【特急】).
    expected = f"【特急】【舆情预警】【Ⅰ级 特别重大】【恶意传播炒作】{title}"
    decoded = str(email.header.make_header(email.header.decode_header(str(wire))))
    assert decoded == expected
    assert BytesParser(policy=email.policy.default).parsebytes(raw)["Subject"] == expected
