"""A leader on a phone: the approval link in a real mail (captured by aiosmtpd) opens the
draft with a confirm button, one tap approves it under the leader's name; the
acknowledgement link of a report works the same way, once even when tapped twice; a
used, expired (controllable clock) or changed link gets a clear refusal page."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from alerting.incidents import intake, service
from alerting.notify.outbox import Outbox
from sentinel.config import Config
from storage.db import Database
from storage.models import Incident, IncidentEvent, Reply
from tests.conftest import Clock
from tests.incidents.conftest import World
from tests.office.documents import problems, visible_text
from tests.web_links.conftest import PHONE, Console

RUMOUR = "江西警察学院食堂毒死了三个学生，学校封锁消息！明天上午九点大家到行政楼门口讨说法，不去的不是人！"
CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)
REPLY = (
    "学校已对二食堂开展检查，涉事批次食材已封存送检，结果将于今日在学院官网公布。感谢同学们的监督。"
)
PEOPLE = [
    ("王主任", "office", "wang.zr@example.edu.cn", None),
    ("李书记", "leader", "leader@example.edu.cn", None),
    ("陈副院长", "leader", "vice@example.edu.cn", None),
]


class Office:
    """The database, config, clock and outbox of one test, and a console serving them."""

    def __init__(self, tmp_path, smtp_port: int, console_port: int):
        from alerting.incidents import users

        self.clock = Clock()
        self.config = Config(
            base_dir=tmp_path,
            database=f"sqlite:///{tmp_path / 'sentinel.db'}",
            console_url=f"http://127.0.0.1:{console_port}",
            recipients={"office": ["yuqing@example.edu.cn"], "leaders": ["leader@example.edu.cn"]},
            escalation=[
                {"severity": ["I", "II"], "levels": [{"notify": ["leaders"], "ack_within": "1h"}]}
            ],
            smtp={
                "host": "127.0.0.1",
                "port": smtp_port,
                "from": "舆情监测 <yuqing@example.edu.cn>",
                "timeout": 5,
            },
        )
        self.db = Database(self.config.database_url)
        self.outbox = Outbox(self.db, self.config, now=self.clock.now)
        self.world = World(self.db, self.clock)
        with self.db.session() as s:
            for name, role, email, unit in PEOPLE:
                users.add(s, name, role=role, email=email, unit=unit)

    def incident(self, url, title, text, **kw) -> int:
        with self.db.session() as s:
            p, m = self.world.post(s, url, title, text, **kw)
            inc, _ = intake(s, p, m, config=self.config, outbox=self.outbox, now=self.clock.now())
            return inc.id

    def act(self, iid, name, **values):
        with self.db.session() as s:
            ctx = service.Context(s, self.config, self.outbox, self.clock.now())
            return service.perform(ctx, iid, name, values)

    def events(self, iid, kind) -> list[IncidentEvent]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(IncidentEvent)
                    .where(IncidentEvent.incident_id == iid, IncidentEvent.kind == kind)
                    .order_by(IncidentEvent.id)
                )
            )


@pytest.fixture
def office(tmp_path, smtp_server, console_port):
    o = Office(tmp_path, smtp_server.port, console_port)
    with Console(o.db, o.config, o.clock.now):
        yield o
    o.db.dispose()


def _mails(smtp_server) -> list[tuple[list[str], str, str]]:
    """Every mail received: (recipients, plain text, HTML)."""
    out = []
    for raw in smtp_server.mailbox.received:
        mail = message_from_bytes(raw["data"], policy=policy.default)
        text = mail.get_body(("plain",)).get_content()
        out.append((raw["to"], text, mail.get_body(("html",)).get_content()))
    return out


def _link(smtp_server, to: str, path: str) -> str:
    """The one-tap link in the plain-text part of the mail ``to`` received last."""
    for rcpt, text, _ in reversed(_mails(smtp_server)):
        found = re.findall(r"http://127\.0\.0\.1:\d+/" + path + r"/[\w.\-]+", text)
        if to in rcpt and found:
            assert len(set(found)) == 1  # one person's link in one person's mail
            return found[0]
    raise AssertionError(f"no /{path}/ link in any mail to {to}")


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    # Read as the office reads it: no English keys, no UTC, no repr, no traceback.
    assert problems(visible_text(page.content())) == []


def _mail_html(smtp_server, to: str) -> str:
    for rcpt, text, html in reversed(_mails(smtp_server)):
        if to in rcpt and "/approve/" in text:
            return html
    raise AssertionError(f"no approval mail to {to}")


def test_a_leader_approves_a_reply_from_the_mail_on_a_phone(office, smtp_server, phone, artifacts):
    iid = office.incident("https://bbs.example.com/t/1", "二食堂饭菜变质？多名学生腹泻", CANTEEN)
    office.act(iid, "reply", by="王主任", text=REPLY)
    assert office.outbox.drain()["failed"] == 0
    url = _link(smtp_server, "leader@example.edu.cn", "approve")
    # Every leader got a mail of their own, each with a link of their own.
    assert _link(smtp_server, "vice@example.edu.cn", "approve") != url
    with_links = [rcpt for rcpt, text, _ in _mails(smtp_server) if "/approve/" in text]
    assert sorted(with_links) == [["leader@example.edu.cn"], ["vice@example.edu.cn"]]

    page = phone.new_page()
    # The mail as the leader's phone shows it: the button carries the same link.
    page.set_content(_mail_html(smtp_server, "leader@example.edu.cn"))
    assert page.get_by_role("link", name="一键审定通过").get_attribute("href") == url
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "onetap-approval-mail-phone.png"), full_page=True)

    resp = page.goto(url)
    assert resp.status == 200
    headers = resp.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.content()
    body = page.locator("main")
    for shown in (
        "审定网上答复",
        "李书记",
        "二食堂饭菜变质？多名学生腹泻",
        REPLY,
        "第1稿",
        "王主任",
    ):
        assert shown in body.inner_text()
    button = page.get_by_role("button", name="确认审定通过")
    assert button.is_visible()
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "onetap-approve-phone.png"), full_page=True)
    # Opening the page did nothing yet (a mail scanner opening links approves nothing).
    with office.db.session() as s:
        assert s.scalar(select(Reply.state).where(Reply.incident_id == iid)) == "pending"

    page.fill("textarea[name=note]", "同意发布")
    button.tap()
    page.wait_for_selector("h1.ok")
    assert "答复已审定通过" in page.inner_text("h1")
    assert "已审定通过第1稿答复" in page.inner_text("main")
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "onetap-approved-phone.png"), full_page=True)
    with office.db.session() as s:
        r = s.scalar(select(Reply).where(Reply.incident_id == iid))
        assert (r.state, r.decided_by, r.decision_note) == ("approved", "李书记", "同意发布")
    assert [(e.actor, e.note) for e in office.events(iid, "reply_approved")] == [
        ("李书记", "第1稿审定通过：同意发布")
    ]

    # The same link again: refused, in words.
    resp = page.goto(url)
    assert resp.status == 410
    assert "链接已经使用过" in page.inner_text("h1")
    page.screenshot(path=str(artifacts / "onetap-used-phone.png"), full_page=True)
    # The other leader's link: the reply is decided already.
    resp = page.goto(_link(smtp_server, "vice@example.edu.cn", "approve"))
    assert resp.status == 409 and "已审定" in page.inner_text("main")


def test_a_leader_sends_a_reply_back_from_the_same_page_with_a_note(
    office, smtp_server, phone, artifacts
):
    iid = office.incident("https://bbs.example.com/t/1", "二食堂饭菜变质？多名学生腹泻", CANTEEN)
    office.act(iid, "reply", by="王主任", text=REPLY)
    office.outbox.drain()
    url = _link(smtp_server, "leader@example.edu.cn", "approve")
    text = next(t for rcpt, t, _ in _mails(smtp_server) if url in t)
    assert "退回修改" in text  # the mail says the page does both
    page = phone.new_page()
    page.goto(url)
    back = page.get_by_role("button", name="退回修改")
    assert back.is_visible() and page.get_by_role("button", name="确认审定通过").is_visible()
    _fits_the_phone(page)
    # Without a note: asked again on the same page; nothing done, the link still works.
    with page.expect_navigation():
        back.tap()
    assert "须写明修改意见" in page.inner_text("main")
    with office.db.session() as s:
        assert s.scalar(select(Reply.state).where(Reply.incident_id == iid)) == "pending"
    page.fill("textarea[name=note]", "请写明送检机构和公布时间")
    page.get_by_role("button", name="退回修改").tap()
    page.wait_for_selector("h1.ok")
    assert "答复已退回修改" in page.inner_text("h1")
    assert "已退回第1稿答复" in page.inner_text("main")
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "onetap-sent-back-phone.png"), full_page=True)
    with office.db.session() as s:
        r = s.scalar(select(Reply).where(Reply.incident_id == iid))
        assert (r.state, r.decided_by, r.decision_note) == (
            "rejected",
            "李书记",
            "请写明送检机构和公布时间",
        )
    assert [e.actor for e in office.events(iid, "reply_rejected")] == ["李书记"]
    assert office.events(iid, "reply_approved") == []
    office.outbox.drain()
    told = [rcpt for rcpt, t, _ in _mails(smtp_server) if "请写明送检机构和公布时间" in t]
    assert any("wang.zr@example.edu.cn" in r for r in told)  # the drafter hears why
    assert page.goto(url).status == 410  # used


def test_an_acknowledgement_tapped_twice_counts_once(office, smtp_server, phone, artifacts):
    iid = office.incident(
        "https://bbs.example.com/t/9",
        "食堂毒死三人？！",
        RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    office.outbox.drain()
    url = _link(smtp_server, "leader@example.edu.cn", "ack")
    # Two tabs (or two devices) open the link, then both confirm.
    first, second = phone.new_page(), phone.new_page()
    first.goto(url)
    second.goto(url)
    assert "确认收到舆情报告" in first.inner_text("h1")
    assert "食堂毒死三人？！" in first.inner_text("main")
    assert "Ⅱ级" in first.inner_text("main") and "确认期限" in first.inner_text("main")
    _fits_the_phone(first)
    first.screenshot(path=str(artifacts / "onetap-ack-phone.png"), full_page=True)
    first.get_by_role("button", name="确认收到").tap()
    first.wait_for_selector("h1.ok")
    assert "李书记 已确认收到" in first.inner_text("main")
    with second.expect_navigation():
        second.get_by_role("button", name="确认收到").tap()
    assert "链接已经使用过" in second.inner_text("h1")
    assert [e.actor for e in office.events(iid, "acknowledged")] == ["李书记"]
    with office.db.session() as s:
        assert s.get(Incident, iid).acknowledged_by == "李书记"


def test_an_expired_changed_or_forged_link_is_refused(office, smtp_server, phone, artifacts):
    iid = office.incident(
        "https://bbs.example.com/t/9",
        "食堂毒死三人？！",
        RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    office.outbox.drain()
    url = _link(smtp_server, "leader@example.edu.cn", "ack")
    page = phone.new_page()

    # Changed by a character: not ours.
    base, token = url.rsplit("/", 1)
    changed = token[:5] + ("x" if token[5] != "x" else "y") + token[6:]
    resp = page.goto(f"{base}/{changed}")
    assert resp.status == 400 and "链接无效" in page.inner_text("h1")
    page.screenshot(path=str(artifacts / "onetap-tampered-phone.png"), full_page=True)
    # An acknowledgement link on the approval page.
    resp = page.goto(url.replace("/ack/", "/approve/"))
    assert resp.status == 400

    # A form posted without its CSRF field (or from another site) does nothing.
    page.goto(url)
    resp = page.request.post(url, form={"note": "伪造"})
    assert resp.status == 403 and "表单已失效" in resp.text()
    assert office.events(iid, "acknowledged") == []

    # A day later the page that was open no longer acts: the link has expired.
    office.clock.advance(hours=24, minutes=1)
    page.get_by_role("button", name="确认收到").tap()
    page.wait_for_selector("h1.warn")
    assert "链接已过期" in page.inner_text("h1")
    resp = page.goto(url)
    assert resp.status == 410 and "链接已过期" in page.inner_text("h1")
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "onetap-expired-phone.png"), full_page=True)
    assert office.events(iid, "acknowledged") == []


def test_a_database_failure_is_a_page_in_words_not_a_traceback(office, smtp_server):
    import httpx
    from sqlalchemy import text

    iid = office.incident("https://bbs.example.com/t/1", "二食堂饭菜变质？", CANTEEN)
    office.act(iid, "reply", by="王主任", text=REPLY)
    office.outbox.drain()
    url = _link(smtp_server, "leader@example.edu.cn", "approve")
    with office.db.session() as s:  # the table of issued links is gone (a broken restore)
        s.execute(text("DROP TABLE signed_links"))
    resp = httpx.get(url, timeout=10)
    assert resp.status_code == 503
    assert "系统暂时无法处理" in resp.text and "Traceback" not in resp.text
    assert problems(visible_text(resp.text)) == []
