"""Early warning (预警) with a controllable clock: a rise in mentions, or in the negative
share, against the same hour of the past days raises ONE 【舆情预警·异常增长】 notice through
the outbox, before any post is an alert; quiet days and a steady day raise nothing."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from sqlalchemy import func, select

from alerting.early_warning import check
from alerting.notify.outbox import Outbox
from sentinel.pipeline import Pipeline
from storage.models import Incident, OutboxMessage
from tests.analysis.helpers import Store, matcher
from tests.notify.conftest import make_config
from tests.office.documents import problems, utc_renderings, visible_text

# Posts that name the college and are no alert each (talk, questions without a topic).
TALK = [
    "江西警察学院今天怎么回事？朋友圈好多人在说",
    "有没有江西警察学院的同学出来说说情况",
    "江西警察学院那边好像出什么事了",
    "刚刷到江西警察学院的消息，不知道真假",
    "江西警察学院现在是什么情况，有人知道吗",
    "我朋友在江西警察学院，他也说不太清楚",
    "江西警察学院门口今天人很多",
    "江西警察学院的事情大家怎么看",
]
GRIPES = [  # negative, yet no single one is an alert
    "江西警察学院食堂的饭越来越难吃了，唉",
    "江西警察学院的网速真的太慢了，烦死了",
    "江西警察学院的课排得太满了，累",
    "江西警察学院宿舍的床太硬了，睡不好",
    "江西警察学院的快递点太远了，真麻烦",
]


def quiet_week(store: Store, clock) -> None:
    """One ordinary mention at this hour on each of the seven days before today."""
    for d in range(7, 0, -1):
        store.post(clock.now() - timedelta(days=d), TALK[d % len(TALK)] + f"（{d}）")


def test_a_rise_in_mentions_raises_one_early_warning_before_any_alert(
    db, clock, tmp_path, smtp_server
):
    cfg = make_config(smtp_server.port)
    outbox = Outbox(db, cfg, now=clock.now)
    store = Store(db, matcher(tmp_path))
    quiet_week(store, clock)
    assert check(db, cfg, outbox, clock.now()) == []  # an ordinary hour
    for k, text in enumerate(TALK[:6]):
        clock.advance(minutes=5)
        store.post(clock.now(), text)
        keys = check(db, cfg, outbox, clock.now())
        assert keys == ([] if k < 4 else keys)  # five posts are the least that count
        if k == 4:
            assert len(keys) == 1 and keys[0].startswith("early_warning:mentions:")
    clock.advance(minutes=10)
    store.post(clock.now(), TALK[6])
    assert check(db, cfg, outbox, clock.now()) == []  # the same rise: told once
    clock.advance(hours=2)
    for text in TALK:
        store.post(clock.now(), text + "！")
    later = check(db, cfg, outbox, clock.now())
    assert not [k for k in later if ":mentions:" in k]  # still the same rise (quiet hours)
    outbox.drain()
    [mail] = [
        m
        for m in (
            email.message_from_bytes(x["data"], policy=email.policy.default)
            for x in smtp_server.mailbox.received
        )
        if "涉校帖文" in str(m["Subject"]) and "条" in str(m["Subject"])
    ]
    assert str(mail["Subject"]).startswith("【舆情预警·异常增长】最近一小时涉校帖文 5 条")
    text = mail.get_body(("plain",)).get_content()
    assert "此前 7 天同一时段平均只有 1 条" in text and "尚无单条帖文达到预警线" in text
    assert "最近的相关帖文" in text and "现在是什么情况，有人知道吗" in text
    html = mail.get_body(("html",)).get_content()
    stamps = {clock.now() - timedelta(hours=h, minutes=m) for h in range(4) for m in range(60)}
    for body in (text, visible_text(html)):  # as the office reads it: no key, no None, no UTC
        assert problems(body, utc_renderings(stamps)) == []
    with db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0  # no post was an alert
        kinds = s.scalars(select(OutboxMessage.kind)).all()
        assert set(kinds) == {"early_warning"} and len(kinds) == 1 + len(later)


def test_a_rise_in_the_negative_share_is_told_too(db, clock, tmp_path):
    cfg = make_config(None)
    outbox = Outbox(db, cfg, now=clock.now)
    store = Store(db, matcher(tmp_path))
    for d in range(7, 0, -1):  # three ordinary mentions at this hour each day
        for k in range(3):
            store.post(
                clock.now() - timedelta(days=d, minutes=k), f"江西警察学院的樱花开了，好美{d}{k}"
            )
    for text in GRIPES[:4]:
        clock.advance(minutes=3)
        store.post(clock.now(), text)
    keys = check(db, cfg, outbox, clock.now())
    assert [k.split(":")[1] for k in keys] == ["negative_share"]  # 4 posts: not a mentions rise
    with db.session() as s:
        msg = s.scalar(select(OutboxMessage))
        assert "负面占比升至 100%" in msg.subject


def test_the_daemon_runs_the_early_warning_job(db, clock, tmp_path):
    import scheduler

    cfg = make_config(None)
    cfg.base_dir = tmp_path
    pipeline = Pipeline(cfg, db, now=clock.now)
    assert "early_warning" in {j.id for j in scheduler.build_scheduler(pipeline, cfg).get_jobs()}
    assert pipeline.early_warning() == []  # an empty database: nothing rises
