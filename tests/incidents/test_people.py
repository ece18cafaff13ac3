"""People and their duties, in the domain functions the CLI and the console call: who may
acknowledge, the reply's way through the leaders, units and what they see, the Q&A
meeting as a record. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.incidents import actions, intake, meeting, replies, review, tick, units, views
from alerting.incidents.escalation import acknowledge
from alerting.incidents.roles import RoleError
from alerting.incidents.users import UserError
from alerting.incidents.workflow import WorkflowError
from storage.models import (
    Base,
    ChecklistItem,
    Escalation,
    Incident,
    IncidentEvent,
    OutboxMessage,
    Reply,
)

CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)
RUMOUR = "江西警察学院食堂毒死了三个学生，学校封锁消息！明天上午九点大家到行政楼门口讨说法，不去的不是人！"


def _open(db, world, config, outbox, clock, url, title, text, **kw) -> int:
    with db.session() as s:
        p, m = world.post(s, url, title, text, **kw)
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        return inc.id


def _anywhere(db, needle: str) -> list[str]:
    """Every table and row in which ``needle`` appears, as text."""
    found = []
    with db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                if needle in repr(tuple(row)):
                    found.append(table.name)
    return found


def _events(db, iid, kind=None) -> list[IncidentEvent]:
    with db.session() as s:
        q = select(IncidentEvent).where(IncidentEvent.incident_id == iid)
        if kind:
            q = q.where(IncidentEvent.kind == kind)
        return list(s.scalars(q.order_by(IncidentEvent.id)))


# -- acknowledging -------------------------------------------------------------------------
def test_a_strangers_acknowledgement_is_refused_and_leaves_no_trace(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/66",
        "食堂毒死三人？！",
        RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    with pytest.raises(UserError, match="没有名为 '随便谁' 的用户"), db.session() as s:
        acknowledge(s, iid, "随便谁", clock.now(), config=config)
    assert _anywhere(db, "随便谁") == []
    with db.session() as s:
        assert s.get(Incident, iid).acknowledged_by is None
        assert all(
            e.acked_at is None
            for e in s.scalars(select(Escalation).where(Escalation.incident_id == iid))
        )
    # The chain goes on as if nobody had typed anything.
    clock.advance(minutes=31)
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["escalated"] == 1


def test_a_leader_acknowledges_only_a_report_addressed_to_them_and_is_named(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/66",
        "食堂毒死三人？！",
        RUMOUR,
        category="illegal",
        severity="II",
        score=90,
        terms=("毒死",),
    )
    with pytest.raises(RoleError, match="不在这份报告的报送名单中"), db.session() as s:
        acknowledge(s, iid, "李书记", clock.now(), config=config)  # level 1 went to the office only
    clock.advance(minutes=31)
    tick(db, config=config, outbox=outbox, now=clock.now())  # level 2: the leaders and the superior
    with pytest.raises(RoleError, match="不在这份报告的报送名单中"), db.session() as s:
        acknowledge(
            s, iid, "陈副院长", clock.now(), config=config
        )  # a leader, but not on the leaders' list
    with pytest.raises(RoleError), db.session() as s:
        acknowledge(s, iid, "保卫处刘老师", clock.now(), config=config)
    with db.session() as s:
        r = acknowledge(s, iid, "李书记", clock.now(), config=config)
    assert r["acknowledged_by"] == "李书记" and r["levels"] == [1, 2]
    acks = _events(db, iid, "acknowledged")
    assert [e.actor for e in acks] == ["李书记"]
    with db.session() as s:
        assert {
            e.acked_by for e in s.scalars(select(Escalation).where(Escalation.incident_id == iid))
        } == {"李书记"}
    # The office may always acknowledge; nothing is open any more, so nothing changes.
    with db.session() as s:
        assert acknowledge(s, iid, "赵敏", clock.now(), config=config)["changed"] is False


def test_an_inactive_user_cannot_act(db, config, outbox, clock, world, people):
    from alerting.incidents import users

    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        users.update(s, "张老师", active=False)
    with pytest.raises(UserError), db.session() as s:
        actions.add_note(s, s.get(Incident, iid), "我还在", now=clock.now(), by="张老师")
    assert _anywhere(db, "我还在") == []


# -- replies (统一回复) ---------------------------------------------------------------------
def test_a_reply_is_published_only_after_a_leader_approved_it(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    text = "学校已对二食堂开展检查，涉事批次食材已封存送检，结果将于今日公布。"
    with db.session() as s:
        inc = s.get(Incident, iid)
        r = replies.draft(s, inc, text, by="张老师", config=config, outbox=outbox, now=clock.now())
        assert (r.version, r.state) == (1, "pending")
    with db.session() as s:  # the leaders are asked, with the text
        mail = s.scalar(
            select(OutboxMessage).where(
                OutboxMessage.kind == "reply_approval", OutboxMessage.channel == "email"
            )
        )
        assert set(mail.recipients) == {"leader@example.edu.cn", "vice@example.edu.cn"}
        # The log names the group and the leader told by their own address.
        [sent] = s.scalars(
            select(IncidentEvent.note).where(IncidentEvent.kind == "reply_submitted")
        )
        assert sent == "第1稿送领导审定：学院领导、陈副院长"
        assert "答复待审定" in mail.subject and text.encode() in _plain(mail)
    with (
        pytest.raises(WorkflowError, match="没有已审定的答复.*须经学院领导审定"),
        db.session() as s,
    ):
        replies.publish(s, s.get(Incident, iid), by="张老师", config=config, now=clock.now())
    with pytest.raises(RoleError, match="只有学院领导可以审定答复"), db.session() as s:
        replies.approve(
            s, s.get(Incident, iid), by="张老师", config=config, outbox=outbox, now=clock.now()
        )
    with pytest.raises(WorkflowError, match="修改意见"), db.session() as s:
        replies.reject(
            s,
            s.get(Incident, iid),
            by="李书记",
            note=" ",
            config=config,
            outbox=outbox,
            now=clock.now(),
        )
    clock.advance(minutes=10)
    with db.session() as s:
        replies.reject(
            s,
            s.get(Incident, iid),
            by="李书记",
            note="请写明送检机构和公布渠道",
            config=config,
            outbox=outbox,
            now=clock.now(),
        )
    clock.advance(minutes=10)
    better = text + "送检机构为市疾控中心，结果在学院官网公布。"
    with db.session() as s:
        inc = s.get(Incident, iid)
        replies.draft(
            s, inc, better + "（初稿）", by="张老师", config=config, outbox=outbox, now=clock.now()
        )
        replies.draft(s, inc, better, by="张老师", config=config, outbox=outbox, now=clock.now())
        replies.approve(
            s, inc, by="李书记", note="同意", config=config, outbox=outbox, now=clock.now()
        )
    with pytest.raises(WorkflowError, match="网址"), db.session() as s:
        replies.publish(
            s, s.get(Incident, iid), by="张老师", config=config, now=clock.now(), url="javascript:x"
        )
    clock.advance(minutes=5)
    with db.session() as s:
        replies.publish(
            s,
            s.get(Incident, iid),
            by="张老师",
            config=config,
            now=clock.now(),
            url="https://bbs.example.com/t/1#reply",
        )
        states = [(r.version, r.state) for r in s.scalars(select(Reply).order_by(Reply.version))]
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "reply_online"
            )
        )
        assert item.done_at == clock.now() and item.done_by == "张老师" and "李书记" in item.note
        decided = s.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.kind == "reply_decision")
        ).all()
    assert states == [(1, "rejected"), (2, "superseded"), (3, "published")]
    assert any("退回修改" in t for t in decided) and any("已审定" in t for t in decided)
    kinds = [e.kind for e in _events(db, iid)]
    for k in (
        "reply_drafted",
        "reply_submitted",
        "reply_rejected",
        "reply_approved",
        "reply_published",
    ):
        assert k in kinds, k
    assert [e.actor for e in _events(db, iid, "reply_approved")] == ["李书记"]
    with db.session() as s:
        html = review.render(s, s.get(Incident, iid), config, clock.now(), "html")
        md = review.render(s, s.get(Incident, iid), config, clock.now(), "md")
    for doc in (html, md):
        assert (
            "网上答复（审定与发布）" in doc and "请写明送检机构和公布渠道" in doc and better in doc
        )
        assert "https://bbs.example.com/t/1#reply" in doc and "已退回" in doc and "已发布" in doc


def _plain(msg) -> bytes:
    from email import message_from_bytes, policy

    return (
        message_from_bytes(msg.body, policy=policy.default)
        .get_body(("plain",))
        .get_content()
        .encode()
    )


def test_the_reply_item_is_not_ticked_by_hand(db, config, outbox, clock, world, people):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with (
        pytest.raises(WorkflowError, match="须在答复经领导审定并发布后才算完成"),
        db.session() as s,
    ):
        actions.check(
            s,
            s.get(Incident, iid),
            "reply_online",
            config=config,
            now=clock.now(),
            by="赵敏",
            note="已答复",
        )
    with db.session() as s:
        assert (
            s.scalar(select(ChecklistItem.done_at).where(ChecklistItem.key == "reply_online"))
            is None
        )


def test_an_inquiry_turned_hype_still_owes_its_reply_and_publishing_ticks_it(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        inc = s.get(Incident, iid)
        inc.category = "hype"  # the story grew into a hype wave: the inquiry's open items stay
        from alerting.incidents import playbooks

        playbooks.apply(s, inc, config, now=clock.now(), keep_open=True)
        with pytest.raises(WorkflowError, match="须在答复经领导审定并发布后"):
            actions.check(s, inc, "reply_online", config=config, now=clock.now(), by="赵敏")
        replies.draft(s, inc, "情况说明", by="赵敏", config=config, outbox=outbox, now=clock.now())
        replies.approve(s, inc, by="李书记", config=config, outbox=outbox, now=clock.now())
        replies.publish(s, inc, by="赵敏", config=config, now=clock.now())
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "reply_online"
            )
        )
        assert item.done_at == clock.now()


def test_a_constructive_suggestion_reply_ticks_the_public_reply(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/2",
        "建议图书馆延长开放",
        "建议江西警察学院图书馆延长开放时间",
        category="constructive",
        terms=("图书馆",),
        topic="library",
    )
    with db.session() as s:
        inc = s.get(Incident, iid)
        replies.draft(
            s,
            inc,
            "图书馆将于下周起延长至22点。",
            by="赵敏",
            config=config,
            outbox=outbox,
            now=clock.now(),
        )
        replies.approve(s, inc, by="陈副院长", config=config, outbox=outbox, now=clock.now())
        replies.publish(s, inc, by="赵敏", config=config, now=clock.now())
        done = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "reply_public"
            )
        )
        assert done.done_at is not None and "陈副院长" in done.note


# -- units ---------------------------------------------------------------------------------
def test_a_unit_sees_and_works_only_its_own_incidents(db, config, outbox, clock, world, people):
    from alerting.incidents.manual import report

    with db.session() as s:
        own = report(
            s,
            title="QQ群里传二食堂饭菜变质",
            note="保卫处学生QQ群有人说江西警察学院二食堂饭菜变质，多人拉肚子",
            by="保卫处刘老师",
            config=config,
            outbox=outbox,
            now=clock.now(),
        ).incident.id
    other = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/9",
        "宿舍停水",
        "江西警察学院宿舍停水三天",
        terms=("停水",),
        topic="dorm",
    )
    with db.session() as s:
        assert [i.id for i in views.query(s, now=clock.now(), viewer="保卫处刘老师")] == [own]
        assert {i.id for i in views.query(s, now=clock.now(), viewer="李书记")} == {own, other}
        assert [i.id for i in views.query(s, now=clock.now(), unit="保卫处")] == [own]
        assert views.summary(s, s.get(Incident, own), clock.now())["units"] == ["保卫处"]
        views.detail(s, s.get(Incident, own), clock.now(), viewer="保卫处刘老师")
        with pytest.raises(RoleError, match="不属于保卫处"):
            views.detail(s, s.get(Incident, other), clock.now(), viewer="保卫处刘老师")
        actions.add_note(
            s, s.get(Incident, own), "又有两个同学反映腹泻", now=clock.now(), by="保卫处刘老师"
        )
    with pytest.raises(RoleError, match="只能对本单位的事件添加备注"), db.session() as s:
        actions.add_note(s, s.get(Incident, other), "x", now=clock.now(), by="保卫处刘老师")
    with pytest.raises(RoleError, match="不能研判"), db.session() as s:
        actions.assess(
            s,
            s.get(Incident, own),
            config=config,
            outbox=outbox,
            now=clock.now(),
            by="保卫处刘老师",
        )
    with pytest.raises(RoleError), db.session() as s:
        units.set_unit(s, s.get(Incident, other), "保卫处", by="李书记", now=clock.now())
    with db.session() as s:  # the office brings the unit in: now it sees the other one too
        units.set_unit(s, s.get(Incident, other), "保卫处", by="赵敏", now=clock.now())
        assert {i.id for i in views.query(s, now=clock.now(), viewer="保卫处刘老师")} == {
            own,
            other,
        }


def test_a_unit_reporter_is_told_when_the_report_opens_and_when_it_is_handled(
    db, config, outbox, clock, world, people
):
    from alerting.incidents.manual import report

    with db.session() as s:
        r = report(
            s,
            title="群里说食堂饭菜变质",
            note="江西警察学院二食堂饭菜变质，好几个同学拉肚子",
            by="保卫处刘老师",
            config=config,
            outbox=outbox,
            now=clock.now(),
            category="inquiry",
        )
        iid = r.incident.id
        assert r.opened
        inc = s.get(Incident, iid)
        actions.assess(s, inc, config=config, outbox=outbox, now=clock.now(), by="赵敏")
        actions.escalate(s, inc, config=config, outbox=outbox, now=clock.now(), by="赵敏")
        actions.classify(s, inc, "inquiry", config=config, now=clock.now(), by="赵敏")
        actions.resolve(
            s,
            inc,
            config=config,
            now=clock.now(),
            by="赵敏",
            tracker="赵敏",
            force=True,
            note="测试：直接转入跟踪",
            outbox=outbox,
        )
    with db.session() as s:
        notes = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "unit_notice")
            .order_by(OutboxMessage.id)
        ).all()
    assert [n.recipients for n in notes] == [["liu@example.edu.cn"], ["liu@example.edu.cn"]]
    assert "已立案" in notes[0].subject and "已处置完毕" in notes[1].subject
    assert "sentinel incident attach" in _plain(notes[0]).decode()


def test_a_unit_reporter_whose_report_joins_an_incident_is_told_so_and_sees_it(
    db, config, outbox, clock, world, people
):
    from alerting.incidents import users
    from alerting.incidents.manual import report

    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        users.add(s, "学生处孙老师", role="unit", unit="学生处", email="sun@example.edu.cn")
        assert views.query(s, now=clock.now(), viewer="学生处孙老师") == []
        r = report(
            s,
            title="班级QQ群也在传",
            note=CANTEEN,
            by="学生处孙老师",
            config=config,
            outbox=outbox,
            now=clock.now(),
        )
        assert (r.incident.id, r.opened) == (iid, False)
        # Their unit follows the incident now: they see it, and may add to it.
        assert [i.id for i in views.query(s, now=clock.now(), viewer="学生处孙老师")] == [iid]
        actions.add_note(
            s, s.get(Incident, iid), "班长说已有人就医", now=clock.now(), by="学生处孙老师"
        )
        [notice] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "unit_notice"))
        assert notice.recipients == ["sun@example.edu.cn"]
        assert "已并入已有事件" in notice.subject and f"#{iid}" in _plain(notice).decode()


def test_a_post_naming_a_watchlist_unit_brings_that_unit_in(
    db, config, outbox, clock, world, people, tmp_path
):
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "watchlists" / "jxpc.yaml"
    wl = tmp_path / "jxpc.yaml"
    wl.write_text(
        src.read_text(encoding="utf-8").replace("units: []", "units: [江西警察学院刑事侦查系]", 1),
        encoding="utf-8",
    )
    cfg = config.model_copy(update={"watchlists": [str(wl)]})
    with db.session() as s:
        from alerting.incidents import users

        users.add(s, "刑侦系孙老师", role="unit", unit="刑事侦查系", email="sun@example.edu.cn")
    iid = _open(
        db,
        world,
        cfg,
        outbox,
        clock,
        "https://bbs.example.com/t/5",
        "刑侦系乱收费",
        "江西警察学院刑事侦查系乱收费",
        entities=("江西警察学院刑事侦查系",),
        terms=("乱收费",),
        topic="fees",
    )
    with db.session() as s:
        assert views.summary(s, s.get(Incident, iid), clock.now())["units"] == ["刑事侦查系"]
        assert [i.id for i in views.query(s, now=clock.now(), viewer="刑侦系孙老师")] == [iid]


# -- the offline Q&A meeting (网下答疑会) ------------------------------------------------------
def test_the_meeting_is_a_record_that_ticks_its_item_and_appears_in_the_review(
    db, config, outbox, clock, world, people
):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with pytest.raises(WorkflowError, match="须先登记答疑会"), db.session() as s:
        actions.check(
            s, s.get(Incident, iid), "offline_qa", config=config, now=clock.now(), by="赵敏"
        )
    clock.advance(hours=30)
    held = clock.now() - timedelta(hours=2)
    with pytest.raises(WorkflowError, match="还缺：解答"), db.session() as s:
        meeting.record_meeting(
            s,
            s.get(Incident, iid),
            held_at=held,
            place="学生活动中心",
            attendees="后勤处、学生代表",
            questions="饭菜是否变质",
            answers="",
            by="赵敏",
            config=config,
            now=clock.now(),
        )
    with pytest.raises(WorkflowError, match="还没到"), db.session() as s:
        meeting.record_meeting(
            s,
            s.get(Incident, iid),
            held_at=clock.now() + timedelta(days=1),
            place="x",
            attendees="x",
            questions="x",
            answers="x",
            by="赵敏",
            config=config,
            now=clock.now(),
        )
    with db.session() as s:
        meeting.record_meeting(
            s,
            s.get(Incident, iid),
            held_at=held,
            place="学生活动中心201",
            attendees="后勤处王处长、学生代表12人",
            questions="饭菜是否变质？如何赔偿？",
            answers="已送检；医药费由学校承担",
            by="赵敏",
            config=config,
            now=clock.now(),
        )
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "offline_qa"
            )
        )
        assert item.done_at == held and item.done_by == "赵敏"
        html = review.render(s, s.get(Incident, iid), config, clock.now(), "html")
        md = review.render(s, s.get(Incident, iid), config, clock.now(), "md")
    for doc in (html, md):
        assert (
            "网下答疑会" in doc and "学生活动中心201" in doc and "后勤处王处长、学生代表12人" in doc
        )
        assert "饭菜是否变质？如何赔偿？" in doc and "医药费由学校承担" in doc
