"""No alert storm: grouping, silences and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from alerting.compose.notice import incident_notice
from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from alerting.notify.routing import add_silence, expire_silence
from storage.models import Incident, OutboxMessage, User
from tests.notify.conftest import make_config, parse, with_notify


def _sent(smtp_server):
    return [parse(m["data"]) for m in smtp_server.mailbox.received]


def test_burst_of_100_posts_in_group_window_gives_one_mail(db, clock, world, smtp_server):
    cfg = with_notify(make_config(smtp_server.port), group_window="5m")
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        first = world.post(s)
        inc = world.incident(s, first)
        incident_alerts.opened(s, outbox, inc, [first])
        inc_id = inc.id
    assert outbox.drain()["sent"] == 1  # the first alert: at once, no wait
    for i in range(100):  # 100 posts join, one every 2.9 s: all within the 5 minutes
        with db.session() as s:
            inc = s.get(Incident, inc_id)
            pm = world.post(s, title=f"转发扩散：江西警察学院食堂事件 {i}")
            world.join(s, inc, pm)
            incident_alerts.updated(s, outbox, inc, [pm])
        clock.advance(seconds=2.9)
        assert outbox.drain()["sent"] == 0
    clock.advance(seconds=15)
    stats = outbox.drain()
    mails = _sent(smtp_server)
    follow = mails[1:]
    print(
        f"\nburst of 100 posts inside the 5 min group window: {len(follow)} follow-up mail "
        f"({len(mails)} mails in all with the first alert); subject {follow[0]['Subject']}"
    )
    assert stats["sent"] == 1 and len(follow) == 1
    assert "新增 100 条" in follow[0]["Subject"]
    root = mails[0]["Message-ID"]
    assert follow[0]["In-Reply-To"] == root and root in follow[0]["References"]
    text = follow[0].get_body(("plain",)).get_content()
    assert "另有 80 条相关帖子未列出" in text
    # A post arriving after the window opens a new group: one more mail, later.
    with db.session() as s:
        inc = s.get(Incident, inc_id)
        pm = world.post(s, title="江西警察学院食堂事件后续")
        world.join(s, inc, pm)
        incident_alerts.updated(s, outbox, inc, [pm])
    clock.advance(minutes=6)
    outbox.drain()
    assert len(_sent(smtp_server)) == 3


def test_zero_group_window_sends_each_follow_up_at_once(db, clock, world, smtp_server):
    cfg = with_notify(make_config(smtp_server.port), group_window=0)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        first = world.post(s)
        inc = world.incident(s, first)
        incident_alerts.opened(s, outbox, inc, [first])
        pm = world.post(s)
        world.join(s, inc, pm)
        m = incident_alerts.updated(s, outbox, inc, [pm])
        assert m.status == "pending"
    assert outbox.drain()["sent"] == 2


def _office(s, name: str = "赵敏") -> str:
    """Silences are the office's: the person who adds one is an active office user."""
    if s.scalar(select(User.id).where(User.name == name)) is None:
        s.add(User(name=name, role="office"))
        s.flush()
    return name


def test_silence_suppresses_what_it_should_and_nothing_else(db, clock, world, smtp_server):
    cfg = make_config(smtp_server.port)
    outbox = Outbox(db, cfg, now=clock.now)
    end = clock.now() + timedelta(hours=2)
    with db.session() as s:
        add_silence(
            s,
            created_by=_office(s),
            target="source",
            value="spam-forum",
            ends_at=end,
            now=clock.now(),
            reason="广告站",
        )
        add_silence(
            s, created_by=_office(s), target="term", value="虫子", ends_at=end, now=clock.now()
        )
        # 1: from the silenced source → silenced
        a = world.post(s, source="spam-forum", title="江西警察学院 A")
        incident_alerts.opened(s, outbox, world.incident(s, a), [a])
        # 2: only matched the silenced term 虫子 → silenced
        b = world.post(
            s,
            title="江西警察学院 B",
            text="江西警察学院 饭里有虫子",
            hits=[{"term": "虫子", "start": 9, "end": 11, "topic": "canteen", "field": "text"}],
        )
        incident_alerts.opened(s, outbox, world.incident(s, b), [b])
        # 3: matched 虫子 AND 投诉 → goes out
        c = world.post(s, title="江西警察学院 C")
        incident_alerts.opened(s, outbox, world.incident(s, c), [c])
        # 4: another source, other terms → goes out
        d = world.post(
            s,
            source="campus-news",
            title="江西警察学院 D",
            text="江西警察学院 收费 质疑",
            hits=[{"term": "收费", "start": 7, "end": 9, "topic": "fees", "field": "text"}],
        )
        inc_d = world.incident(s, d)
        incident_alerts.opened(s, outbox, inc_d, [d])
        # 5: an incident silence holds back its escalation, not other incidents' messages
        e = world.post(s, title="江西警察学院 E")
        inc_e = world.incident(s, e)
        add_silence(
            s,
            created_by=_office(s),
            target="incident",
            value=str(inc_e.id),
            ends_at=end,
            now=clock.now(),
        )
        incident_alerts.opened(s, outbox, inc_e, [e])
        outbox.queue(
            s,
            incident_notice(
                key=f"escalation:{inc_e.id}:1",
                kind="escalation",
                to=["leaders"],
                subject="【舆情报告】E",
                heading="舆情报告",
                incident=inc_e,
                config=cfg,
            ),
        )
        outbox.queue(
            s,
            incident_notice(
                key=f"escalation:{inc_d.id}:1",
                kind="escalation",
                to=["leaders"],
                subject="【舆情报告】D",
                heading="舆情报告",
                incident=inc_d,
                config=cfg,
            ),
        )
    outbox.drain()
    got = sorted(
        str(m["Subject"])[-1] if "报告" not in str(m["Subject"]) else "esc-" + str(m["Subject"])[-1]
        for m in _sent(smtp_server)
    )
    with db.session() as s:
        silenced = len(
            s.scalars(select(OutboxMessage).where(OutboxMessage.status == "silenced")).all()
        )
    print(
        f"\nsilences (source spam-forum, term 虫子, incident E): delivered {got}, kept silenced {silenced}"
    )
    assert got == ["C", "D", "esc-D"]
    assert silenced == 4
    # After the silence expires, the same source alerts again.
    with db.session() as s:
        for sid in (1, 2, 3):
            expire_silence(s, sid, clock.now(), by=_office(s))
        f = world.post(s, source="spam-forum", title="江西警察学院 F")
        incident_alerts.opened(s, outbox, world.incident(s, f), [f])
    outbox.drain()
    assert str(_sent(smtp_server)[-1]["Subject"]).endswith("F")


def test_silenced_posts_are_left_out_of_a_follow_up(db, clock, world, smtp_server):
    cfg = with_notify(make_config(smtp_server.port), group_window="1m")
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        add_silence(
            s,
            created_by=_office(s),
            target="source",
            value="spam-forum",
            ends_at=clock.now() + timedelta(hours=1),
            now=clock.now(),
        )
        first = world.post(s)
        inc = world.incident(s, first)
        incident_alerts.opened(s, outbox, inc, [first])
        for src in ("spam-forum", "spam-forum", "campus-news"):
            pm = world.post(s, source=src)
            world.join(s, inc, pm)
            incident_alerts.updated(s, outbox, inc, [pm])
    clock.advance(minutes=2)
    outbox.drain()
    mails = _sent(smtp_server)
    assert len(mails) == 2 and "新增 1 条" in mails[1]["Subject"]


def _at_local(hour: int, minute: int = 0, day: int = 23) -> datetime:
    # Asia/Shanghai is UTC+8 all year.
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone(timedelta(hours=8))).astimezone(
        UTC
    )


def test_quiet_hours_hold_back_a_IV_and_let_a_I_through(db, clock, world, smtp_server):
    cfg = with_notify(make_config(smtp_server.port), quiet_hours={"start": "22:00", "end": "07:30"})
    outbox = Outbox(db, cfg, now=clock.now)
    clock.t = _at_local(23, 40)
    with db.session() as s:
        low = world.post(s, title="江西警察学院 Ⅳ级帖子", severity="IV")
        incident_alerts.opened(s, outbox, world.incident(s, low, severity="IV"), [low])
        high = world.post(s, title="江西警察学院 Ⅰ级帖子", severity="I")
        incident_alerts.opened(s, outbox, world.incident(s, high, severity="I"), [high])
    night = outbox.drain()
    at_night = [str(m["Subject"]) for m in _sent(smtp_server)]
    clock.t = _at_local(7, 29, day=24)
    before_end = outbox.drain()
    clock.t = _at_local(7, 30, day=24)
    morning = outbox.drain()
    print(
        f"\nquiet hours 22:00–07:30, alerts at 23:40: at night {night} ({at_night}); "
        f"07:29 {before_end}; 07:30 {morning}"
    )
    assert night["sent"] == 1 and "Ⅰ级" in at_night[0]
    assert before_end["sent"] == 0
    assert morning["sent"] == 1 and "Ⅳ级" in str(_sent(smtp_server)[-1]["Subject"])


def test_routes_pick_recipients_by_severity_category_and_unit(db, clock, world, smtp_server):
    cfg = with_notify(
        make_config(
            smtp_server.port,
            recipients={
                "office": ["yuqing@example.edu.cn"],
                "leaders": ["leader@example.edu.cn"],
                "security": ["baowei@example.edu.cn"],
            },
        ),
        routes=[
            {"severity": ["I", "II"], "to": ["office", "leaders"]},
            {"category": ["illegal"], "to": ["office", "security"]},
            {"unit": ["刑侦系"], "to": ["office", "security"]},
            {"severity": ["III", "IV"], "to": ["office"]},
        ],
    )
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        a = world.post(s, severity="II")
        incident_alerts.opened(s, outbox, world.incident(s, a, severity="II"), [a])
        b = world.post(s, severity="III", category="illegal")
        incident_alerts.opened(
            s, outbox, world.incident(s, b, severity="III", category="illegal"), [b]
        )
        c = world.post(s, severity="IV")
        c[1].entities = ["江西警察学院", "刑侦系"]
        incident_alerts.opened(s, outbox, world.incident(s, c, severity="IV"), [c])
    outbox.drain()
    to = [sorted(m["to"]) for m in smtp_server.mailbox.received]
    assert to == [
        ["leader@example.edu.cn", "yuqing@example.edu.cn"],
        ["baowei@example.edu.cn", "yuqing@example.edu.cn"],
        ["baowei@example.edu.cn", "yuqing@example.edu.cn"],
    ]
