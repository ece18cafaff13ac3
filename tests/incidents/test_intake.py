"""Clustering and intake: one story, one incident."""

from __future__ import annotations

from sqlalchemy import func, select

from alerting.incidents import intake
from storage.models import ChecklistItem, Incident, IncidentEvent, IncidentPost, OutboxMessage

CANTEEN = (
    "请问江西警察学院第二食堂的饭菜是不是变质了？昨天中午吃完好几个同学拉肚子，学校能不能给个说法。"
)
CANTEEN_TERMS = ("食堂", "变质", "拉肚子")


def _intake(db, config, outbox, clock, world, *args, **kw):
    with db.session() as s:
        post, match = world.post(s, *args, **kw)
        inc, opened = intake(s, post, match, config=config, outbox=outbox, now=clock.now())
        return inc.id, opened


def test_new_story_opens_an_incident_with_checklist_and_alert(db, config, outbox, clock, world):
    iid, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=CANTEEN_TERMS,
    )
    assert opened
    with db.session() as s:
        inc = s.get(Incident, iid)
        assert inc.status == "reported" and inc.category == "inquiry" and inc.severity == "III"
        assert inc.post_count == 1 and inc.site_count == 1 and inc.first_post_id is not None
        assert inc.scope.startswith("系统测算")
        keys = {
            c.key for c in s.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == iid))
        }
        assert keys == {"reply_online", "offline_qa", "trace_source", "positive_guidance"}
        kinds = [
            e.kind for e in s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == iid))
        ]
        assert "opened" in kinds and "checklist_added" in kinds
        assert (
            s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.incident_id == iid)
            )
            >= 1
        )


def test_repost_joins_existing_incident_even_with_other_words(db, config, outbox, clock, world):
    with db.session() as s:
        first, m = world.post(
            s, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN, terms=CANTEEN_TERMS
        )
        inc, _ = intake(s, first, m, config=config, outbox=outbox, now=clock.now())
        first_id, iid = first.id, inc.id
    clock.advance(hours=30)
    with db.session() as s:
        from storage.models import Post

        first = s.get(Post, first_id)
        repost, m2 = world.post(
            s,
            "https://news.example.net/a/9",
            "转发",
            "扩散！！",
            site="news",
            category="hype",
            terms=("转发",),
            topic="hype",
            duplicate_of=first,
        )
        inc2, opened = intake(s, repost, m2, config=config, outbox=outbox, now=clock.now())
        assert not opened and inc2.id == iid
        assert inc2.post_count == 2 and inc2.site_count == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1


def test_near_duplicate_copy_on_another_site_joins(db, config, outbox, clock, world):
    iid, _ = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=CANTEEN_TERMS,
    )
    clock.advance(minutes=20)
    iid2, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://weibo.example.com/p/2",
        "看到这个帖子",
        "【转】" + CANTEEN + " 大家怎么看",
        site="weibo",
        terms=("食堂",),
    )
    assert not opened and iid2 == iid


def test_same_terms_join_inside_the_window_only(db, config, outbox, clock, world):
    iid, _ = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=CANTEEN_TERMS,
    )
    clock.advance(hours=2)
    iid2, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/2",
        "二食堂又出事",
        "二食堂的菜都变质了，学校管不管",
        terms=("食堂", "变质"),
        category="hype",
    )
    assert not opened and iid2 == iid
    clock.advance(days=5)
    iid3, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/3",
        "食堂又变质",
        "江西警察学院食堂变质的事过去几天了",
        terms=("食堂", "变质"),
    )
    assert opened and iid3 != iid


def test_unrelated_story_opens_a_second_incident(db, config, outbox, clock, world):
    iid, _ = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/1",
        "食堂饭菜变质？",
        CANTEEN,
        terms=CANTEEN_TERMS,
    )
    iid2, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/5",
        "宿舍楼停水三天",
        "江西警察学院三号宿舍楼已经停水三天了，没人管吗",
        terms=("宿舍", "停水"),
        topic="dorm",
    )
    assert opened and iid2 != iid


def test_intake_of_the_same_post_twice_changes_nothing(db, config, outbox, clock, world):
    with db.session() as s:
        post, m = world.post(
            s, "https://bbs.example.com/t/1", "食堂饭菜变质？", CANTEEN, terms=CANTEEN_TERMS
        )
        inc, opened = intake(s, post, m, config=config, outbox=outbox, now=clock.now())
        n_events = len(inc.events)
        inc2, opened2 = intake(s, post, m, config=config, outbox=outbox, now=clock.now())
        assert opened and not opened2 and inc2.id == inc.id
        s.expire_all()
        assert s.scalar(select(func.count()).select_from(IncidentPost)) == 1
        assert s.scalar(select(func.count()).select_from(IncidentEvent)) == n_events


def test_canteen_story_with_its_hype_wave_and_reposts_is_one_incident(
    db, config, outbox, clock, world
):
    from storage.models import Post

    iid, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://bbs.example.com/t/1",
        "二食堂饭菜变质？",
        CANTEEN,
        terms=CANTEEN_TERMS,
        score=55,
        severity="IV",
    )
    assert opened
    clock.advance(minutes=30)
    hype = "扩散！江西警察学院二食堂饭菜变质，几十个学生拉肚子，学校还在捂盖子！速转！"
    iid2, opened = _intake(
        db,
        config,
        outbox,
        clock,
        world,
        "https://weibo.example.com/p/1",
        "速转！二食堂",
        hype,
        site="weibo",
        category="hype",
        terms=("食堂", "变质", "扩散"),
        score=75,
        severity="III",
    )
    assert not opened and iid2 == iid
    with db.session() as s:
        root = s.scalar(select(Post).where(Post.url == "https://weibo.example.com/p/1"))
        for n, site in enumerate(("news", "tieba", "douyin", "zhihu")):
            clock.advance(minutes=5)
            p, m = world.post(
                s,
                f"https://{site}.example.com/x/{n}",
                "转",
                hype,
                site=site,
                category="hype",
                terms=("扩散",),
                topic="hype",
                score=70,
                severity="III",
                duplicate_of=root,
            )
            inc, opened = intake(s, p, m, config=config, outbox=outbox, now=clock.now())
            assert not opened and inc.id == iid
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        inc = s.get(Incident, iid)
        assert inc.post_count == 6 and inc.site_count == 6
        assert (
            inc.category == "hype"
        )  # the wave outweighs the first inquiry: proposed, not confirmed
        assert inc.severity in ("III", "II", "I")
        assert inc.first_post_id == s.scalar(
            select(Post.id).where(Post.url == "https://bbs.example.com/t/1")
        )
        keys = {
            c.key for c in s.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == iid))
        }
        assert "state_facts" in keys
