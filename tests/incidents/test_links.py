"""One-tap links in mails (alerting/links): each addressed person's own copy carries a
link signed for them, one incident and one action; opening it shows what it grants,
using it acts once under that person's name; a changed, expired, used link or a person
no longer allowed is refused. Both databases."""

from __future__ import annotations

import json
import re
import threading
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from alerting.incidents import intake, replies, tick, users
from alerting.incidents.escalation import acknowledge
from alerting.links import grant
from alerting.links.rules import LinkRefused
from alerting.notify.outbox import Outbox
from core.vocabulary import LinkRefusal
from storage.models import Incident, IncidentEvent, OutboxMessage, Reply
from storage.signed_links import SignedLink

CONSOLE = "https://yuqing.example.edu.cn/console"
LINK = re.compile(re.escape(CONSOLE) + r"/(ack|approve)/([\w.\-]+)")
CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)
RUMOUR = "江西警察学院食堂毒死了三个学生，学校封锁消息！明天上午九点大家到行政楼门口讨说法，不去的不是人！"
REPLY = "学校已对二食堂开展检查，涉事批次食材已封存送检，结果将于今日公布。"


@pytest.fixture(autouse=True)
def _secret_under_var_dir(monkeypatch):
    """The secret each installation makes under its var_dir (not one from outside)."""
    monkeypatch.delenv("SENTINEL_WEB_SECRET", raising=False)


@pytest.fixture
def linked(config):
    """The tests' config with the console's address: mails carry one-tap links."""
    return config.model_copy(update={"console_url": CONSOLE})


@pytest.fixture
def lbox(db, linked, clock):
    return Outbox(db, linked, now=clock.now)


def _open(db, world, config, outbox, clock, text=CANTEEN, **kw) -> int:
    with db.session() as s:
        p, m = world.post(s, "https://bbs.example.com/t/1", "食堂饭菜变质？", text, **kw)
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        return inc.id


def _mails(db, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        return list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind, OutboxMessage.channel == "email")
                .order_by(OutboxMessage.id)
            )
        )


def _parts(msg: OutboxMessage) -> tuple[str, str]:
    m = message_from_bytes(msg.body, policy=policy.default)
    return m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content()


def _links(msg: OutboxMessage) -> list[tuple[str, str]]:
    text, html = _parts(msg)
    found = LINK.findall(text)
    assert sorted(LINK.findall(html)) == sorted(found)  # the button carries the same link
    return found


def _draft(db, config, outbox, clock, iid, text=REPLY, by="张老师"):
    with db.session() as s:
        replies.draft(
            s, s.get(Incident, iid), text, by=by, config=config, outbox=outbox, now=clock.now()
        )


def _events(db, iid, kind) -> list[IncidentEvent]:
    with db.session() as s:
        return list(
            s.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == iid, IncidentEvent.kind == kind)
                .order_by(IncidentEvent.id)
            )
        )


def _refused(db, token, clock, config, **kw) -> LinkRefused:
    with pytest.raises(LinkRefused) as e, db.session() as s:
        grant.open(s, token, config=config, now=clock.now(), **kw)
    return e.value


def test_each_leader_gets_an_own_mail_with_an_own_approval_link(
    db, linked, lbox, clock, world, people
):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    mails = _mails(db, "reply_approval")
    # One mail per leader (leader@ is on the leaders' list, vice@ an active leader):
    # nobody receives a link signed for somebody else.
    assert sorted(m.recipients[0] for m in mails) == [
        "leader@example.edu.cn",
        "vice@example.edu.cn",
    ]
    assert all(len(m.recipients) == 1 for m in mails)
    assert len({m.message_id for m in mails}) == 2
    tokens = {}
    for m in mails:
        (found,) = _links(m)
        assert found[0] == "approve"
        text, _ = _parts(m)
        assert REPLY in text and "一键审定通过" in text and "只能使用一次" in text
        tokens[m.recipients[0]] = found[1]
    with db.session() as s:
        g = grant.open(s, tokens["vice@example.edu.cn"], config=linked, now=clock.now())
        assert (g.user.name, g.action, g.title) == ("陈副院长", "approve", "审定通过")
        assert g.reply.text == REPLY and g.summary["title"] == "食堂饭菜变质？"
    # The drafter, an office user, gets no approval link; no link row was made for them.
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignedLink)) == 2


def test_a_link_approves_once_under_the_leaders_name(db, linked, lbox, clock, world, people):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = {m.recipients[0]: _links(m)[0][1] for m in _mails(db, "reply_approval")}
    clock.advance(minutes=5)
    with db.session() as s:
        _, outcome = grant.use(
            s,
            token["leader@example.edu.cn"],
            clock.now(),
            config=linked,
            outbox=lbox,
            action="approve",
            note="同意，请尽快发布",
        )
        assert outcome.message == "已审定通过第1稿答复"
    with db.session() as s:
        r = s.scalar(select(Reply).where(Reply.incident_id == iid))
        assert (r.state, r.decided_by, r.decision_note) == (
            "approved",
            "李书记",
            "同意，请尽快发布",
        )
    # Posted again (a double tap, a second device): refused, nothing more happens.
    e = _refused(db, token["leader@example.edu.cn"], clock, linked)
    assert e.reason is LinkRefusal.USED and e.status == 410
    with pytest.raises(LinkRefused), db.session() as s:
        grant.use(s, token["leader@example.edu.cn"], clock.now(), config=linked, outbox=lbox)
    assert [e.actor for e in _events(db, iid, "reply_approved")] == ["李书记"]
    # The other leader's link: the reply is decided, nothing to approve any more.
    e = _refused(db, token["vice@example.edu.cn"], clock, linked)
    assert e.reason is LinkRefusal.STALE and "已审定" in str(e) and e.status == 409


def test_an_approval_link_sends_the_draft_back_only_with_a_note(
    db, linked, lbox, clock, world, people
):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = {m.recipients[0]: _links(m)[0][1] for m in _mails(db, "reply_approval")}
    mine = token["leader@example.edu.cn"]
    with pytest.raises(grant.NoteNeeded, match="须写明修改意见"), db.session() as s:
        grant.use(s, mine, clock.now(), config=linked, outbox=lbox, decision="reject", note=" ")
    with db.session() as s:  # nothing done, the link is still good
        assert grant.open(s, mine, config=linked, now=clock.now()).link.used_at is None
    with db.session() as s:
        _, outcome = grant.use(
            s,
            mine,
            clock.now(),
            config=linked,
            outbox=lbox,
            action="approve",
            decision="reject",
            note="请写明送检机构",
        )
        assert outcome.message == "已退回第1稿答复"
    with db.session() as s:
        r = s.scalar(select(Reply).where(Reply.incident_id == iid))
        assert (r.state, r.decided_by, r.decision_note) == ("rejected", "李书记", "请写明送检机构")
    assert [e.actor for e in _events(db, iid, "reply_rejected")] == ["李书记"]
    assert _refused(db, mine, clock, linked).reason is LinkRefusal.USED


def test_an_acknowledgement_link_cannot_be_turned_into_another_act(
    db, linked, lbox, clock, world, people
):
    iid = _open(
        db, world, linked, lbox, clock, text=RUMOUR, category="illegal", severity="II", score=90
    )
    clock.advance(minutes=31)
    tick(db, config=linked, outbox=lbox, now=clock.now())  # level 2: the leaders
    [mail] = [
        m
        for m in _mails(db, "escalation")
        if m.key.startswith(f"escalation:{iid}:2:") and m.recipients == ["leader@example.edu.cn"]
    ]
    ((action, token),) = _links(mail)
    assert action == "ack"
    for decision in ("reject", "approve"):
        with pytest.raises(LinkRefused) as e, db.session() as s:
            grant.use(
                s, token, clock.now(), config=linked, outbox=lbox, decision=decision, note="x"
            )
        assert e.value.reason is LinkRefusal.TAMPERED
    assert _events(db, iid, "acknowledged") == []
    with db.session() as s:  # the link still does what it was issued for
        grant.use(s, token, clock.now(), config=linked, outbox=lbox, action="ack")
    assert [e.actor for e in _events(db, iid, "acknowledged")] == ["李书记"]


def test_a_leader_acknowledges_an_escalation_from_their_link(
    db, linked, lbox, clock, world, people
):
    iid = _open(
        db,
        world,
        linked,
        lbox,
        clock,
        text=RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    clock.advance(minutes=31)
    tick(db, config=linked, outbox=lbox, now=clock.now())  # level 2: the leaders and the superior
    by_group = {
        m.key.split(":")[3]: m
        for m in _mails(db, "escalation")
        if m.key.startswith(f"escalation:{iid}:2:")
    }
    # The leaders' list is leader@ (李书记): their copy has their link; the superior
    # department is no user of ours and reads the report without a link.
    ((action, token),) = _links(by_group["leaders"])
    assert action == "ack" and by_group["leaders"].recipients == ["leader@example.edu.cn"]
    assert _links(by_group["superior"]) == []
    text, _ = _parts(by_group["leaders"])
    assert "一键确认收到" in text and "李书记" in text
    clock.advance(minutes=3)
    with db.session() as s:
        _, outcome = grant.use(s, token, clock.now(), config=linked, outbox=lbox, action="ack")
        assert outcome.message == "李书记 已确认收到"
    with db.session() as s:
        inc = s.get(Incident, iid)
        assert (inc.acknowledged_by, inc.acknowledged_at) == ("李书记", clock.now())
    assert [e.actor for e in _events(db, iid, "acknowledged")] == ["李书记"]
    assert _refused(db, token, clock, linked).reason is LinkRefusal.USED


def test_a_changed_or_foreign_token_is_refused_as_tampered(db, linked, lbox, clock, world, people):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = _links(_mails(db, "reply_approval")[0])[0][1]
    payload, sig = token.rsplit(".", 1)
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (flipped + "." + sig, token[:-3], token + "x", "", "x" * 1000, "not-a-token"):
        e = _refused(db, bad, clock, linked)
        assert e.reason is LinkRefusal.TAMPERED and e.status == 400
    # Signed with another installation's secret: not ours.
    other = linked.model_copy(update={"var_dir": str(linked.base_dir / "other-var")})
    assert _refused(db, token, clock, other).reason is LinkRefusal.TAMPERED
    # An approval link on the acknowledgement page.
    e = _refused(db, token, clock, linked, action="ack")
    assert e.reason is LinkRefusal.TAMPERED and "不是用于这一操作" in str(e)


def test_an_expired_link_is_refused_and_the_validity_is_a_setting(
    db, linked, lbox, clock, world, people
):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = _links(_mails(db, "reply_approval")[0])[0][1]
    clock.advance(hours=23, minutes=59)
    with db.session() as s:
        grant.open(s, token, config=linked, now=clock.now())  # still valid
    clock.advance(minutes=2)
    e = _refused(db, token, clock, linked)
    assert e.reason is LinkRefusal.EXPIRED and e.status == 410 and "有效期至" in str(e)
    # notify.link_valid_for: 2h
    short = linked.model_copy(
        update={"notify": linked.notify.model_copy(update={"link_valid_for": 7200})}
    )
    box = Outbox(db, short, now=clock.now)
    _draft(db, short, box, clock, iid, text=REPLY + "（第二稿）")
    token2 = _links(_mails(db, "reply_approval")[-1])[0][1]
    clock.advance(hours=2)
    assert _refused(db, token2, clock, short).reason is LinkRefusal.EXPIRED


def test_a_person_no_longer_allowed_or_a_superseded_draft_is_refused(
    db, linked, lbox, clock, world, people
):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = {m.recipients[0]: _links(m)[0][1] for m in _mails(db, "reply_approval")}
    with db.session() as s:
        users.update(s, "陈副院长", active=False)
    e = _refused(db, token["vice@example.edu.cn"], clock, linked)
    assert e.reason is LinkRefusal.NOT_ALLOWED and e.status == 403 and "停用" in str(e)
    with db.session() as s:
        users.update(s, "李书记", role="office")
    e = _refused(db, token["leader@example.edu.cn"], clock, linked)
    assert e.reason is LinkRefusal.NOT_ALLOWED and "只有学院领导" in str(e)
    with db.session() as s:
        users.update(s, "李书记", role="leader")
    # A new draft: the link was for the text the leader read, version 1.
    _draft(db, linked, lbox, clock, iid, text=REPLY + "送检机构为市疾控中心。")
    e = _refused(db, token["leader@example.edu.cn"], clock, linked)
    assert e.reason is LinkRefusal.STALE and "第1稿" in str(e) and "第2稿" in str(e)
    with db.session() as s:
        assert (
            s.scalar(select(Reply.state).where(Reply.incident_id == iid, Reply.version == 2))
            == "pending"
        )


def test_without_console_url_the_mail_goes_as_before_without_links(
    db, config, outbox, clock, world, people
):
    iid = _open(db, world, config, outbox, clock)
    _draft(db, config, outbox, clock, iid)
    (mail,) = _mails(db, "reply_approval")
    assert set(mail.recipients) == {"leader@example.edu.cn", "vice@example.edu.cn"}
    text, _ = _parts(mail)
    assert "一键" not in text and "sentinel incident approve" in text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignedLink)) == 0


def test_a_retry_sends_the_stored_mail_and_issues_no_new_link(
    db, linked, clock, world, people, tmp_path
):
    from sentinel.config import Config
    from tests.notify.conftest import free_port

    down = Config(
        base_dir=linked.base_dir,
        console_url=CONSOLE,
        recipients={"office": ["yuqing@example.edu.cn"], "leaders": ["leader@example.edu.cn"]},
        smtp={
            "host": "127.0.0.1",
            "port": free_port(),
            "from": "舆情监测 <yuqing@example.edu.cn>",
            "timeout": 2,
        },
    )
    box = Outbox(db, down, now=clock.now)
    iid = _open(db, world, down, box, clock)
    _draft(db, down, box, clock, iid)
    before = {m.id: m.body for m in _mails(db, "reply_approval")}
    stats = box.drain()
    assert stats["sent"] == 0
    clock.advance(hours=1)
    box.drain()
    after = {m.id: m.body for m in _mails(db, "reply_approval")}
    assert after == before
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignedLink)) == 2


def test_a_persons_own_chat_webhook_gets_their_link_and_a_group_chat_none(
    db, config, clock, world, people
):
    chat = config.model_copy(
        update={
            "console_url": CONSOLE,
            "notify": config.notify.model_copy(
                update={
                    "channels": {
                        "leaders": ["json://127.0.0.1:9/group"],
                        "vice@example.edu.cn": ["json://127.0.0.1:9/vice"],
                    }
                }
            ),
        }
    )
    box = Outbox(db, chat, now=clock.now)
    iid = _open(db, world, chat, box, clock)
    _draft(db, chat, box, clock, iid)
    with db.session() as s:
        rows = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "reply_approval", OutboxMessage.channel == "chat"
            )
        ).all()
        bodies = {r.recipients[0]: json.loads(r.body)["body"] for r in rows}
    assert set(bodies) == {"leaders", "vice@example.edu.cn"}
    assert not LINK.search(bodies["leaders"]) and REPLY in bodies["leaders"]
    ((action, token),) = LINK.findall(bodies["vice@example.edu.cn"])
    assert action == "approve"
    with db.session() as s:
        assert grant.open(s, token, config=chat, now=clock.now()).user.name == "陈副院长"


def test_two_taps_at_the_same_moment_act_once(db, linked, lbox, clock, world, people):
    iid = _open(db, world, linked, lbox, clock)
    _draft(db, linked, lbox, clock, iid)
    token = {m.recipients[0]: _links(m)[0][1] for m in _mails(db, "reply_approval")}
    barrier = threading.Barrier(2)
    results: list[str] = []

    def tap():
        barrier.wait()
        try:
            with db.session() as s:
                grant.use(
                    s, token["leader@example.edu.cn"], clock.now(), config=linked, outbox=lbox
                )
            results.append("done")
        except LinkRefused as e:
            results.append(e.reason.value)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["done", "used"]
    assert [e.actor for e in _events(db, iid, "reply_approved")] == ["李书记"]


def test_a_report_acknowledged_meanwhile_needs_no_second_acknowledgement(
    db, linked, lbox, clock, world, people
):
    iid = _open(
        db,
        world,
        linked,
        lbox,
        clock,
        text=RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    clock.advance(minutes=31)
    tick(db, config=linked, outbox=lbox, now=clock.now())
    (mail,) = [m for m in _mails(db, "escalation") if m.key == f"escalation:{iid}:2:leaders"]
    ((_, token),) = _links(mail)
    with db.session() as s:  # the office acknowledges from the command line first
        acknowledge(s, iid, "赵敏", clock.now(), config=linked)
    e = _refused(db, token, clock, linked)
    assert e.reason is LinkRefusal.STALE and "赵敏" in str(e) and "无需再确认" in str(e)
    assert [e.actor for e in _events(db, iid, "acknowledged")] == ["赵敏"]


def test_a_reminder_carries_a_fresh_link_and_asking_every_minute_issues_no_more(
    db, linked, lbox, clock, world, people
):
    iid = _open(
        db,
        world,
        linked,
        lbox,
        clock,
        text=RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    clock.advance(minutes=31)
    tick(db, config=linked, outbox=lbox, now=clock.now())  # level 2
    clock.advance(minutes=61)
    tick(db, config=linked, outbox=lbox, now=clock.now())  # past the last level: a reminder
    with db.session() as s:
        links_before = s.scalar(select(func.count()).select_from(SignedLink))
    for _ in range(5):  # the daemon's tick asks every minute
        clock.advance(minutes=1)
        tick(db, config=linked, outbox=lbox, now=clock.now())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignedLink)) == links_before
    reminders = [m for m in _mails(db, "reminder") if "leader@example.edu.cn" in m.recipients]
    assert len(reminders) == 1 and reminders[0].recipients == ["leader@example.edu.cn"]
    ((action, token),) = _links(reminders[0])
    assert action == "ack"
    with db.session() as s:
        _, outcome = grant.use(s, token, clock.now(), config=linked, outbox=lbox, action="ack")
    assert outcome.message == "李书记 已确认收到"
    assert [e.actor for e in _events(db, iid, "acknowledged")] == ["李书记"]
