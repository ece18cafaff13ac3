"""Storing collected posts: keyed, versioned, evidence kept as fetched, reposts linked."""

import hashlib
from datetime import UTC, datetime

from sqlalchemy import func, select

from crawler.base import FetchResult, Outcome, RawPost, SourceState
from storage.health import record_health
from storage.models import Post, PostVersion, Snapshot, Source
from storage.posts import snapshot_bytes, store_posts

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def fetched(url: str, body: bytes) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=url,
        status=200,
        headers={"Content-Type": "text/html; charset=gbk"},
        body=body,
        fetched_at=T,
    )


def raw(url: str, title: str, text: str, body: bytes | None = None) -> RawPost:
    return RawPost(
        url=url, title=title, text=text, snapshot=fetched(url, body or text.encode("gbk"))
    )


def source(s) -> Source:
    src = Source(name="forum", type="site", state={})
    s.add(src)
    s.flush()
    return src


def test_storing_the_same_collection_twice_changes_nothing(db):
    posts = [
        raw(
            "https://Bbs.Example.com/t/1?utm_source=x#reply",
            "食堂涨价",
            "江西警察学院食堂又涨价了" * 3,
        )
    ]
    with db.session() as s:
        src = source(s)
        first = store_posts(s, src, posts, now=T)
    with db.session() as s:
        src = s.get(Source, src.id)
        again = store_posts(s, src, posts, now=T)
        assert len(first.new) == 1 and not again.new and again.seen == 1
        assert s.scalar(select(func.count(Post.id))) == 1
        assert s.scalar(select(func.count(Snapshot.id))) == 1
        # The URL is canonical: host lower-cased, fragment and tracking parameters dropped.
        assert s.scalar(select(Post.url)) == "https://bbs.example.com/t/1"


def test_snapshot_is_the_response_as_fetched_with_its_hash(db):
    body = "<html><meta charset=gbk>江西警察学院</html>".encode("gbk")
    with db.session() as s:
        store_posts(s, source(s), [raw("https://a/1", "t", "江西警察学院", body)], now=T)
    with db.session() as s:
        snap = s.scalars(select(Snapshot)).one()
        assert snapshot_bytes(snap) == body
        assert snap.sha256 == hashlib.sha256(body).hexdigest()
        assert snap.headers["Content-Type"] == "text/html; charset=gbk"


def test_an_edited_post_becomes_a_new_version_and_keeps_the_old_snapshot(db):
    with db.session() as s:
        src = source(s)
        store_posts(s, src, [raw("https://a/1", "原标题", "第一版内容，关于学校食堂的问题")], now=T)
    with db.session() as s:
        src = s.get(Source, src.id)
        out = store_posts(s, src, [raw("https://a/1", "原标题", "第二版内容，已经修改过了")], now=T)
        assert len(out.changed) == 1
    with db.session() as s:
        post = s.scalars(select(Post)).one()
        old = s.scalars(select(PostVersion)).one()
        assert post.version == 2 and "第二版" in post.text
        assert old.version == 1 and "第一版" in old.text
        assert old.snapshot_id != post.snapshot_id
        assert s.scalar(select(func.count(Snapshot.id))) == 2


def test_a_repost_on_another_site_links_to_the_earliest_post(db):
    from crawler.dedup import NearDuplicateIndex

    story = "江西警察学院食堂饭菜里吃出虫子，学生多次反映无人处理，请学校给个说法。" * 3
    index = NearDuplicateIndex()
    with db.session() as s:
        src = source(s)
        store_posts(s, src, [raw("https://a/1", "食堂吃出虫子", story)], now=T, dedup=index)
        store_posts(
            s, src, [raw("https://b/9", "转：食堂吃出虫子", "转发：" + story)], now=T, dedup=index
        )
        store_posts(
            s,
            src,
            [raw("https://c/3", "运动会", "今天的运动会很精彩，各学院积极参与比赛项目。" * 3)],
            now=T,
            dedup=index,
        )
    with db.session() as s:
        by = {p.url: p for p in s.scalars(select(Post))}
        assert by["https://b/9"].duplicate_of_id == by["https://a/1"].id
        assert by["https://a/1"].duplicate_of_id is None
        assert by["https://c/3"].duplicate_of_id is None


def test_health_counts_failures_and_resets_on_success(db):
    with db.session() as s:
        src = source(s)
        for _ in range(3):
            record_health(s, src, Outcome(error_kind="timeout", error="timed out"), T)
        assert src.consecutive_failures == 3 and src.last_error_kind == "timeout"
        ok = Outcome(state=SourceState(etag='"abc"'), fetched=1)
        record_health(s, src, ok, T)
        assert src.consecutive_failures == 0 and src.last_success_at == T and src.etag == '"abc"'
        assert src.last_error_kind == "timeout"  # the last error stays visible
