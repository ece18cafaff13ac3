"""The response plan's steps on the clock: deadlines, escalation, evidence, tracking, review."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from alerting.incidents import actions, evidence, intake, replies, review, tick
from alerting.incidents.escalation import acknowledge
from alerting.incidents.workflow import WorkflowError
from alerting.notify import incident_alerts
from storage.models import (
    ChecklistItem,
    Escalation,
    EvidenceItem,
    Incident,
    OutboxMessage,
    Post,
    Snapshot,
    User,
)

SH = ZoneInfo("Asia/Shanghai")
CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)
RUMOUR = "江西警察学院食堂毒死了三个学生，学校封锁消息！明天上午九点大家到行政楼门口讨说法，不去的不是人！"


def _open(db, world, config, outbox, clock, url, title, text, **kw) -> int:
    with db.session() as s:
        p, m = world.post(s, url, title, text, **kw)
        inc, _ = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        return inc.id


def _messages(db, iid, kind=None):
    with db.session() as s:
        q = select(OutboxMessage).where(
            OutboxMessage.incident_id == iid, OutboxMessage.channel == "email"
        )
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        return list(s.scalars(q.order_by(OutboxMessage.id)))


def _text(message) -> str:
    from email import message_from_bytes, policy

    return (
        message_from_bytes(message.body, policy=policy.default).get_body(("plain",)).get_content()
    )


def test_inquiry_reply_is_due_the_same_day_and_raises_one_overdue_alert(
    db, config, outbox, clock, world
):
    clock.t = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=("食堂", "变质"),
    )
    with db.session() as s:
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "reply_online"
            )
        )
        assert item.title == "网上答复处理意见"
        assert item.due_at.astimezone(SH) == datetime(2026, 11, 23, 23, 59, tzinfo=SH)
    clock.t = datetime(2026, 11, 23, 15, 58, tzinfo=UTC)
    assert tick(db, config=config, outbox=outbox, now=clock.now())["overdue"] == 0
    clock.t = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 00:00 the next day in Shanghai
    assert tick(db, config=config, outbox=outbox, now=clock.now())["overdue"] == 1
    assert tick(db, config=config, outbox=outbox, now=clock.now())["overdue"] == 0
    overdue = _messages(db, iid, "overdue")
    assert len(overdue) == 1 and "网上答复处理意见" in overdue[0].subject
    assert "yuqing@example.edu.cn" in overdue[0].recipients


def _publish_reply(s, inc, config, outbox, clock, by="张老师"):
    replies.draft(
        s,
        inc,
        "学校已核查，涉事批次食材已封存送检。",
        by=by,
        config=config,
        outbox=outbox,
        now=clock.now(),
    )
    replies.approve(s, inc, by="李书记", config=config, outbox=outbox, now=clock.now())
    replies.publish(
        s, inc, by=by, config=config, now=clock.now(), url="https://bbs.example.com/t/1#reply"
    )


def test_published_reply_meets_the_same_day_clock(db, config, outbox, clock, world, people):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        _publish_reply(s, s.get(Incident, iid), config, outbox, clock)
    clock.advance(days=1)
    tick(db, config=config, outbox=outbox, now=clock.now())
    with db.session() as s:
        item = s.scalar(select(ChecklistItem).where(ChecklistItem.key == "reply_online"))
        assert item.done_by == "张老师" and item.overdue_alerted_at is None
        assert "李书记" in item.note and "第1稿" in item.note


def test_rumour_evidence_carries_the_snapshots_sha256_and_the_pack_opens(
    db, config, outbox, clock, world, tmp_path
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
        terms=("毒死", "讨说法"),
        topic="gathering",
    )
    clock.advance(minutes=5)
    with db.session() as s:
        first = s.scalar(select(Post).where(Post.url == "https://bbs.example.com/t/66"))
        p, m = world.post(
            s,
            "https://weibo.example.com/p/7",
            "速转",
            RUMOUR,
            site="weibo",
            category="illegal",
            severity="II",
            terms=("毒死",),
            topic="gathering",
            duplicate_of=first,
        )
        intake(s, p, m, config=config, outbox=outbox, now=clock.now())
    with db.session() as s:
        items = s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == iid)).all()
        assert len(items) == 2
        for it in items:
            snap = s.get(Snapshot, it.snapshot_id)
            assert (
                it.sha256 == hashlib.sha256(zlib.decompress(snap.body)).hexdigest() == snap.sha256
            )
        done = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == iid, ChecklistItem.key == "preserve_evidence"
            )
        )
        assert done.done_at is not None and done.done_by == "system"
        result = evidence.export(s, s.get(Incident, iid), tmp_path / "pack.zip", now=clock.now())
    assert result["verified"] and result["items"] == 2
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        assert z.testzip() is None
        names = z.namelist()
        assert {"manifest.json", "posts.json", "events.json", "SHA256SUMS", "README.txt"} <= set(
            names
        )
        for line in z.read("SHA256SUMS").decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(z.read(name)).hexdigest() == digest
        manifest = json.loads(z.read("manifest.json"))
        assert all(i["hash_verified"] for i in manifest["items"])
        assert any(e["kind"] == "evidence_added" for e in json.loads(z.read("events.json")))


def test_escalation_goes_level_by_level_with_dual_reporting_until_acknowledged(
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
    # Level 1 (the office) reads its report in the incident's first alert: one mail, not two.
    assert _messages(db, iid, "escalation") == []
    [alert] = _messages(db, iid, "new_incident")
    assert alert.recipients == ["yuqing@example.edu.cn"] and "第1级报告" in _text(alert)
    clock.advance(minutes=29)
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["escalated"] == 0
    clock.advance(minutes=2)
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["escalated"] == 1
    level2 = _messages(db, iid, "escalation")
    assert sorted(r for m in level2 for r in m.recipients) == [
        "duty@superior.example.gov.cn",
        "leader@example.edu.cn",
    ]
    assert len({m.created_at for m in level2}) == 1  # both chains at the same moment
    clock.advance(minutes=61)
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["reminded"] == 1
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["reminded"] == 0
    clock.advance(hours=1)  # still inside the repeat interval: no reminder storm
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["reminded"] == 0
    clock.advance(seconds=outbox.settings.repeat_interval)  # nobody has acknowledged: remind again
    assert tick(db, config=config, outbox=outbox, now=clock.now())["escalation"]["reminded"] == 1
    with db.session() as s:
        r = acknowledge(s, iid, "李书记", clock.now(), config=config)
        assert r["levels"] == [1, 2]
    with db.session() as s:
        escs = s.scalars(select(Escalation).where(Escalation.incident_id == iid)).all()
        assert all(e.acked_by == "李书记" for e in escs)
        assert s.get(Incident, iid).acknowledged_by == "李书记"
        assert acknowledge(s, iid, "李书记", clock.now(), config=config)["changed"] is False


def test_acknowledged_level_does_not_escalate(db, config, outbox, clock, world, people):
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
        severity="I",
        score=95,
        terms=("毒死",),
    )
    with db.session() as s:
        acknowledge(s, iid, "王主任", clock.now(), config=config)  # the office
    clock.advance(hours=3)
    tick(db, config=config, outbox=outbox, now=clock.now())
    assert _messages(db, iid, "escalation") == []  # level 1 was told in the first alert


def test_minor_incident_is_not_escalated_automatically(db, config, outbox, clock, world):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    assert _messages(db, iid, "escalation") == []


def _work_to_tracking(db, config, outbox, clock, iid):
    from alerting.incidents import meeting

    if not _has_people(db):
        from tests.incidents.conftest import add_people

        add_people(db)
    with db.session() as s:
        inc = s.get(Incident, iid)
        actions.assess(
            s, inc, config=config, outbox=outbox, now=clock.now(), by="赵敏", cause="食堂卫生"
        )
        actions.escalate(s, inc, config=config, outbox=outbox, now=clock.now(), by="赵敏")
        actions.classify(s, inc, "inquiry", config=config, now=clock.now(), by="赵敏")
        _publish_reply(s, inc, config, outbox, clock, by="赵敏")
        meeting.record_meeting(
            s,
            inc,
            held_at=clock.now(),
            place="二食堂",
            attendees="后勤处、学生代表",
            questions="饭菜是否变质",
            answers="已送检",
            by="赵敏",
            config=config,
            now=clock.now(),
        )
        for key in ("trace_source", "positive_guidance"):
            actions.check(s, inc, key, config=config, now=clock.now(), by="赵敏", note="已办")
        actions.resolve(s, inc, config=config, now=clock.now(), by="赵敏", tracker="赵敏")
        assert inc.status == "tracking"


def _has_people(db) -> bool:
    with db.session() as s:
        return s.scalar(select(User.id).where(User.name == "赵敏")) is not None


def test_second_wave_reopens_the_tracked_incident_with_a_secondary_crisis_alert(
    db, config, outbox, clock, world
):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=("食堂", "变质", "拉肚子"),
    )
    _work_to_tracking(db, config, outbox, clock, iid)
    clock.advance(days=4)
    with db.session() as s:
        p, m = world.post(
            s,
            "https://tieba.example.com/p/9",
            "二食堂又吃坏人了",
            "江西警察学院二食堂又有人吃完拉肚子，饭菜变质",
            site="tieba",
            terms=("食堂", "变质", "拉肚子"),
            category="hype",
        )
        inc, opened = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
        assert not opened and inc.id == iid and inc.status == "reopened" and inc.reopened_count == 1
    alerts = _messages(db, iid, "secondary_crisis")
    assert len(alerts) == 1 and "二次危机" in alerts[0].subject
    assert "zhaomin@example.edu.cn" in alerts[0].recipients
    # The post the secondary-crisis alert named is not listed again in the next follow-up.
    clock.advance(minutes=1)
    with db.session() as s:
        q, m2 = world.post(
            s,
            "https://weibo.example.com/p/3",
            "二食堂的事又来了",
            "江西警察学院二食堂饭菜变质，有人拉肚子",
            site="weibo",
            terms=("食堂", "变质", "拉肚子"),
            category="hype",
        )
        intake(s, q, m2, config=config, outbox=outbox, now=clock.now())
    clock.advance(minutes=10)
    incident_alerts.flush_groups(outbox)
    from email import message_from_bytes, policy

    updates = [
        message_from_bytes(m.body, policy=policy.default).get_body(("plain",)).get_content()
        for m in _messages(db, iid, "incident_update")
        if m.body
    ]
    later = [b for b in updates if "weibo.example.com/p/3" in b]
    assert later and all("tieba.example.com/p/9" not in b for b in later)


def test_quiet_tracking_is_proposed_for_closing_once(db, config, outbox, clock, world):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    _work_to_tracking(db, config, outbox, clock, iid)
    clock.advance(days=2)
    assert (
        tick(db, config=config, outbox=outbox, now=clock.now())["tracking"]["close_proposed"] == 0
    )
    clock.advance(days=2)
    assert (
        tick(db, config=config, outbox=outbox, now=clock.now())["tracking"]["close_proposed"] == 1
    )
    assert (
        tick(db, config=config, outbox=outbox, now=clock.now())["tracking"]["close_proposed"] == 0
    )
    with db.session() as s:
        actions.close(
            s, s.get(Incident, iid), now=clock.now(), by="赵敏", note="事件平息，答复及时。"
        )
        assert s.get(Incident, iid).status == "closed"


def test_engagement_growth_in_tracking_is_a_secondary_crisis(db, config, outbox, clock, world):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        views=100,
        replies=10,
    )
    _work_to_tracking(db, config, outbox, clock, iid)
    clock.advance(hours=3)
    with db.session() as s:
        p = s.scalar(select(Post).where(Post.url == "https://bbs.example.com/t/1"))
        p.views, p.replies = 900, 80  # the crawler refreshed the counts
    assert (
        tick(db, config=config, outbox=outbox, now=clock.now())["tracking"]["secondary_crisis"] == 1
    )
    with db.session() as s:
        assert s.get(Incident, iid).status == "reopened"


def test_the_plan_order_cannot_be_skipped(db, config, outbox, clock, world, people):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        inc = s.get(Incident, iid)
        with pytest.raises(WorkflowError, match="尚未研判"):
            actions.escalate(s, inc, config=config, outbox=outbox, now=clock.now(), by="赵敏")
        with pytest.raises(WorkflowError, match="不能转为“已结案”"):
            actions.close(s, inc, now=clock.now(), by="赵敏", note="x")
        with pytest.raises(WorkflowError, match="只有分类处理中"):
            actions.resolve(s, inc, config=config, now=clock.now(), by="赵敏")


def test_review_report_renders_with_its_chart(db, config, outbox, clock, world):
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？<script>x</script>",
        CANTEEN,
    )
    for i in range(4):
        clock.advance(minutes=40)
        _open(
            db,
            world,
            config,
            outbox,
            clock,
            f"https://m{i}.example.com/p",
            "转",
            "【转】" + CANTEEN,
            site=f"s{i}",
        )
    with db.session() as s:
        inc = s.get(Incident, iid)
        html = review.render(s, inc, config, clock.now(), "html")
        md = review.render(s, inc, config, clock.now(), "md")
        weekly = review.render_weekly(s, config, clock.now(), "html")
    assert "<svg" in html and html.count('class="bar"') >= 3
    import xml.etree.ElementTree as ET

    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + 6])
    bars = [
        int(r.find("{http://www.w3.org/2000/svg}title").text.split("：")[1].split()[0])
        for r in svg.iter("{http://www.w3.org/2000/svg}rect")
    ]
    assert sum(bars) == 5  # every post counted once in the hourly volume
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "首发来源" in html and "bbs.example.com" in html and "网上答复处理意见" in html
    assert "网络舆情事件总结评估报告" in md and "█" in md
    assert "网络舆情周报" in weekly and f"#{iid}" in weekly


def test_category_change_replaces_open_checklist_items(db, config, outbox, clock, world, people):
    iid = _open(
        db, world, config, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        inc = s.get(Incident, iid)
        actions.check(
            s, inc, "trace_source", config=config, now=clock.now(), by="赵敏", note="发帖人为学生"
        )
        actions.classify(s, inc, "hype", config=config, now=clock.now(), by="赵敏")
        keys = {
            c.key for c in s.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == iid))
        }
    # 正面引导 is a duty of both categories: the inquiry's open item carries over.
    assert keys == {
        "trace_source",
        "state_facts",
        "trace_and_deal",
        "educate",
        "positive_guidance",
        "refer_police",
    }
    clock.advance(days=2)
    tick(db, config=config, outbox=outbox, now=clock.now())
    subjects = [m.subject for m in _messages(db, iid, "overdue")]
    assert not any("移交执法部门" in s for s in subjects)  # optional item: no overdue alert
    assert any("说明事实" in s for s in subjects)


def test_edited_playbook_file_is_used_and_errors_are_positioned(
    db, config, outbox, clock, world, tmp_path
):
    from alerting.incidents.playbooks import PlaybookError, load
    from alerting.incidents.settings import IncidentSettings

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "inquiry:\n  label: x\n  items:\n    - key: a\n      title: t\n      due: soon\n",
        encoding="utf-8",
    )
    with pytest.raises(PlaybookError) as e:
        load(bad)
    assert str(e.value).startswith(f"{bad}:6:")
    good = tmp_path / "mine.yaml"
    good.write_text(
        "inquiry:\n  label: 询问\n  items:\n    - {key: call, title: 电话回访, due: 2h}\n",
        encoding="utf-8",
    )
    cfg = config.model_copy()
    object.__setattr__(cfg, "incidents", IncidentSettings(playbooks="mine.yaml"))
    iid = _open(
        db, world, cfg, outbox, clock, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN
    )
    with db.session() as s:
        items = s.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == iid)).all()
        assert [(i.title, i.due_at - s.get(Incident, iid).opened_at) for i in items] == [
            ("电话回访", timedelta(hours=2))
        ]


def test_weekly_report_reads_as_a_leader_reads_it(db, config, outbox, clock, world):
    """Each incident in words (posts, sites, category, severity, status, handling), the
    volume per day as a chart, incidents by category; no reprs, no keys, no UTC."""
    iid = _open(
        db,
        world,
        config,
        outbox,
        clock,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？<b>x</b>|y",
        CANTEEN,
    )
    for i in range(3):
        clock.advance(hours=9)
        _open(
            db,
            world,
            config,
            outbox,
            clock,
            f"https://m{i}.example.com/p",
            "转",
            "【转】" + CANTEEN,
            site=f"s{i}",
        )
    with db.session() as s:
        html = review.render_weekly(s, config, clock.now(), "html")
        md = review.render_weekly(s, config, clock.now(), "md")
    for doc in (html, md):
        for bad in ("{'", "datetime.", "None", "inquiry", "reported", "UTC", "[{"):
            assert bad not in doc, (bad, doc[:2000])
        assert f"#{iid}" in doc and "询问质疑诉求" in doc and "已报案" in doc
        assert (
            "帖文 4 条，涉及网站 4 个" in doc
            and "m0.example.com" in doc
            and "处置事项完成 0/" in doc
        )
        assert "北京时间" in doc
    assert html.count('class="bar"') >= 2 and "每日涉校帖文量" in html
    assert "<th>恶意传播炒作</th>" in html and "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;\\|y" in md  # crawled HTML is inert in Markdown too


def test_markdown_reports_keep_crawled_html_and_links_inert(db, config, outbox, clock, world):
    """A crawled title carrying HTML, a Markdown link, emphasis and a table pipe, read in a
    Markdown viewer (markdown-it, raw HTML on): no tag, no link, no bold, the tables whole."""
    from markdown_it import MarkdownIt

    title = "<img src=x onerror=alert(1)>食堂[点我](javascript:alert(1))|**x**"
    iid = _open(db, world, config, outbox, clock, "https://bbs.example.com/t/9", title, CANTEEN)
    with db.session() as s:
        inc = s.get(Incident, iid)
        docs = {
            "review": review.render(s, inc, config, clock.now(), "md"),
            "weekly": review.render_weekly(s, config, clock.now(), "md"),
        }
    viewer = MarkdownIt("commonmark", {"html": True}).enable("table")
    for name, md in docs.items():
        shown = viewer.render(md)
        assert "<img" not in shown and "javascript:" not in shown.split('href="')[-1][:12], name
        assert 'href="javascript' not in shown and "<strong>x</strong>" not in shown, name
        assert "&lt;img src=x onerror=alert(1)&gt;食堂[点我](javascript:alert(1))|**x**" in shown
        for table in shown.split("<table>")[1:]:  # no row gained a cell from the title's pipe
            body = table.split("</table>")[0]
            widths = {row.count("<td") for row in body.split("<tr>")[1:] if "<td" in row}
            assert len(widths) <= 1, (name, widths)


def test_an_inquiry_opened_at_2357_gets_a_workable_first_deadline(config):
    from zoneinfo import ZoneInfo

    from alerting.incidents import playbooks
    from alerting.incidents.settings import settings_of

    tz = ZoneInfo("Asia/Shanghai")
    reply = next(
        i for i in playbooks.for_config(config)["inquiry"].items if i.key == "reply_online"
    )
    late = datetime(2026, 12, 1, 23, 57, tzinfo=tz)
    evening = datetime(2026, 12, 1, 22, 30, tzinfo=tz)
    lead = settings_of(config).min_deadline
    assert reply.due_at(late, tz, min_lead=lead).astimezone(tz) == datetime(
        2026, 12, 2, 0, 57, tzinfo=tz
    )
    assert reply.due_at(evening, tz, min_lead=lead).astimezone(tz) == datetime(
        2026, 12, 1, 23, 59, tzinfo=tz
    )
