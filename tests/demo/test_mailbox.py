"""The local mailbox: a real aiosmtpd server that files messages as .eml, and can be
made hostile (refused recipients, temporary failures, downtime, AUTH, TLS)."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest

from demo.mailbox import Mailbox

SUBJECT = "【舆情预警】Ⅲ级 江西警察学院二食堂涨价引发炒作"


def _message(subject: str = SUBJECT, to: str = "yuqing@jxpc.example.edu.cn") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "舆情监测 <yuqing@jxpc.example.edu.cn>"
    msg["To"] = to
    msg.set_content("监测到涉及江西警察学院的敏感信息：二食堂饭菜涨价，多个网站转发。")
    msg.add_alternative("<p>监测到涉及<b>江西警察学院</b>的敏感信息。</p>", subtype="html")
    return msg


def _send(box: Mailbox, msg: EmailMessage, **kw) -> dict:
    with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
        return s.send_message(msg, **kw)


def test_stores_each_message_unchanged_and_parses_it_back(tmp_path):
    with Mailbox(tmp_path / "mail") as box:
        msg = _message()
        raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
            assert (
                s.sendmail("yuqing@jxpc.example.edu.cn", ["leader@jxpc.example.edu.cn"], raw) == {}
            )
        files = box.files()
        assert (
            len(files) == 1 and files[0].parent == tmp_path / "mail" and files[0].suffix == ".eml"
        )
        assert files[0].read_bytes() == raw
        [got] = box.messages()
        assert got["Subject"] == SUBJECT
        assert b"Subject: =?utf-8?" in raw  # encoded on the wire, intact when parsed
        assert "二食堂饭菜涨价" in got.get_body(("plain",)).get_content()
        assert "<b>江西警察学院</b>" in got.get_body(("html",)).get_content()
        [d] = box.deliveries
        assert d.mail_from == "yuqing@jxpc.example.edu.cn" and d.rcpt_tos == [
            "leader@jxpc.example.edu.cn"
        ]


def test_files_sort_by_arrival(tmp_path):
    with Mailbox(tmp_path) as box:
        for i in range(5):
            _send(box, _message(subject=f"第{i}封"))
        assert [m["Subject"] for m in box.messages()] == [f"第{i}封" for i in range(5)]
        assert [p.name for p in box.files()] == sorted(p.name for p in box.files())
        assert not list(tmp_path.glob("*.part"))


def test_refuses_listed_recipients_with_550(tmp_path):
    with Mailbox(tmp_path, refuse_recipients={"Nobody@jxpc.example.edu.cn"}) as box:
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
                s.send_message(_message(to="nobody@jxpc.example.edu.cn"))
            code, _ = e.value.recipients["nobody@jxpc.example.edu.cn"]
            assert code == 550
        assert box.messages() == []
        # With a good recipient too, only the good one gets it.
        refused = _send(box, _message(to="nobody@jxpc.example.edu.cn, leader@jxpc.example.edu.cn"))
        assert refused["nobody@jxpc.example.edu.cn"][0] == 550
        assert box.deliveries[-1].rcpt_tos == ["leader@jxpc.example.edu.cn"]
        assert len(box.messages()) == 1


def test_survives_stop_and_start_on_the_same_port(tmp_path):
    box = Mailbox(tmp_path).start()
    try:
        port = box.port
        _send(box, _message(subject="停机前"))
        box.stop()
        assert not box.running
        with pytest.raises(
            (ConnectionRefusedError, smtplib.SMTPServerDisconnected, socket.timeout)
        ):
            smtplib.SMTP("127.0.0.1", port, timeout=3)
        box.start()
        assert box.port == port
        _send(box, _message(subject="恢复后"))
        assert [m["Subject"] for m in box.messages()] == ["停机前", "恢复后"]
        box.stop()
        box.start()  # and again
        _send(box, _message(subject="第二次恢复"))
        assert len(box.messages()) == 3
    finally:
        box.close()


def test_tempfail_answers_451_then_accepts(tmp_path):
    with Mailbox(tmp_path) as box:
        box.tempfail_next(2)
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as e:
                _send(box, _message())
            assert e.value.smtp_code == 451
        _send(box, _message())
        assert len(box.messages()) == 1


def test_auth_login_and_plain(tmp_path):
    with Mailbox(tmp_path, username="yuqing@jxpc.example.edu.cn", password="pa55-s3cret") as box:
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                s.send_message(_message())
            assert e.value.smtp_code == 530  # authentication required
        for mechanism in ("LOGIN", "PLAIN"):
            with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
                s.ehlo()
                s.user, s.password = "yuqing@jxpc.example.edu.cn", "pa55-s3cret"
                code, _ = s.auth(mechanism, getattr(s, "auth_" + mechanism.lower()))
                assert code == 235
                s.send_message(_message(subject=mechanism))
        with (
            smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            s.login("yuqing@jxpc.example.edu.cn", "wrong")
        assert [m["Subject"] for m in box.messages()] == ["LOGIN", "PLAIN"]
        assert ("yuqing@jxpc.example.edu.cn", False) in box.auth_attempts


def test_starttls_with_a_self_signed_certificate(tmp_path):
    with Mailbox(tmp_path, tls="starttls", username="u", password="p") as box:
        assert box.cert_file and box.cert_file.exists()
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as s:
            s.ehlo()
            assert s.has_extn("starttls")
            assert not s.has_extn("auth")  # AUTH only after STARTTLS
            s.starttls(context=box.client_context())
            s.ehlo()
            s.login("u", "p")
            s.send_message(_message())
        assert box.messages()[0]["Subject"] == SUBJECT
        cert = box.cert_file
    assert not cert.exists()  # removed on close


def test_implicit_tls(tmp_path):
    with Mailbox(tmp_path, tls="ssl") as box:
        with smtplib.SMTP_SSL("127.0.0.1", box.port, timeout=10, context=box.client_context()) as s:
            s.send_message(_message())
        assert len(box.messages()) == 1
