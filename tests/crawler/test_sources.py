"""The three built-in source types end to end against a loopback server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crawler.base import CollectContext, SourceState
from crawler.registry import source_types
from crawler.sources.search import expand

RSS_GB2312 = """<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>校园新闻</title>
<item><title>江西警察学院 举办毕业典礼</title><link>http://news.example.edu.cn/a/1?utm_source=rss#top</link>
<description>&lt;p&gt;今天&lt;b&gt;毕业&lt;/b&gt;典礼&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description>
<pubDate>Mon, 23 Nov 2026 08:15:00 +0800</pubDate></item>
</channel></rss>""".encode("gb18030")


def board_page(page: int, threads: list[int], next_page: int | None) -> bytes:
    rows = "".join(
        f'<tbody id="normalthread_{t}"><tr><th><a href="thread-{t}-1-1.html" class="s xst">帖子{t}</a>'
        f'</th><td class="num"><a class="xi2">{t}</a><em>{t * 10}</em></td></tr></tbody>'
        for t in threads
    )
    nxt = (
        f'<div class="pg"><a href="forum-12-{next_page}.html" class="nxt">下一页</a></div>'
        if next_page
        else ""
    )
    html = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>板块 第{page}页</title></head><body><table>{rows}</table>{nxt}</body></html>'
    return html.encode("gbk")


def thread_page(t: int) -> bytes:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>'
        f'<h1 class="ts"><span id="thread_subject">关于江西警察学院食堂的问题{t}</span></h1>'
        f'<div class="authi"><a class="xw1" href="space-uid-1.html">学生{t}</a>'
        f'<em id="authorposton{t}">发表于 2026-11-2{t % 10} 08:05</em></div>'
        f'<table><tr><td class="t_f" id="postmessage_{t}">楼主正文{t}：食堂饭菜有问题。<br>请学校回应。</td></tr></table>'
        '<table><tr><td class="t_f">二楼回复</td></tr></table></body></html>'
    )
    return html.encode("gbk")


DISCUZ = {
    "list": {"item": "a.s.xst::attr(href)", "next": "a.nxt::attr(href)", "max_pages": 3},
    "fields": {
        "title": "h1 span::text",
        "body": "(//td[contains(@class,'t_f')])[1]",
        "author": "a.xw1::text",
        "published": "em[id^=authorposton]::text",
    },
}


def test_registry_has_the_three_builtin_types():
    assert {"feed", "site", "search"} <= set(source_types())


def test_feed_gb2312_entry_becomes_clean_post_with_snapshot(server, collect):
    url = server.add("/rss.xml", RSS_GB2312, content_type="application/rss+xml", etag='"v1"')
    r = collect({"name": "news", "type": "feed", "url": url, "delay": 0})
    assert r.ok, r.error
    [post] = r.posts
    assert post.title == "江西警察学院 举办毕业典礼"
    assert post.text == "今天毕业典礼"  # tags and script dropped
    assert post.url == "http://news.example.edu.cn/a/1"  # tracking params and fragment dropped
    assert post.published_at.isoformat() == "2026-11-23T00:15:00+00:00"
    assert post.snapshot.body == RSS_GB2312 and post.snapshot.status == 200
    assert post.snapshot.encoding == "gb18030"
    assert r.state.etag == '"v1"'


def test_unchanged_feed_costs_one_304_and_no_posts(server, collect):
    url = server.add(
        "/rss.xml",
        RSS_GB2312,
        content_type="application/rss+xml",
        etag='"v1"',
        last_modified="Mon, 23 Nov 2026 00:00:00 GMT",
    )
    first = collect({"name": "news", "type": "feed", "url": url, "delay": 0})
    before = len(server.log)
    second = collect({"name": "news", "type": "feed", "url": url, "delay": 0}, state=first.state)
    assert second.not_modified and second.posts == [] and second.fetched == 1
    assert len(server.log) - before == 1
    assert server.log[-1][2]["if-none-match"] == '"v1"'


def test_site_walks_gbk_discuz_board_pages_and_threads(server, collect):
    server.add("/forum-12-1.html", board_page(1, [1, 2, 3], 2), content_type="text/html")
    server.add("/forum-12-2.html", board_page(2, [4, 5], 3), content_type="text/html")
    server.add("/forum-12-3.html", board_page(3, [6], None), content_type="text/html")
    for t in range(1, 7):
        server.add(f"/thread-{t}-1-1.html", thread_page(t), content_type="text/html")
    r = collect(
        {
            "name": "bar",
            "type": "site",
            "urls": [server.url("/forum-12-1.html")],
            "delay": 0,
            **DISCUZ,
            "list": {**DISCUZ["list"], "max_pages": 2},
        }
    )
    assert r.ok, r.error
    by_url = {p.url: p for p in r.posts}
    assert sorted(by_url) == sorted(server.url(f"/thread-{t}-1-1.html") for t in range(1, 6))
    p = by_url[server.url("/thread-2-1-1.html")]
    assert p.title == "关于江西警察学院食堂的问题2"
    assert p.text == "楼主正文2：食堂饭菜有问题。\n请学校回应。"
    assert p.author == "学生2"
    assert p.published_at.isoformat() == "2026-11-22T08:05:00+08:00"
    assert p.snapshot.body == thread_page(2) and p.snapshot.encoding == "gb18030"
    assert "\ufffd" not in p.text


def test_site_without_fields_extracts_title_and_body_automatically(server, collect):
    para = (
        "江西警察学院今日召开全体教职工大会，部署新学期工作。会议强调要做好校园安全和学生管理工作。"
        * 4
    )
    html = (
        f"<html><head><title>学院召开大会 - 新闻网</title></head><body><nav>首页 | 新闻 | 通知</nav>"
        f"<article><h1>学院召开大会</h1><p>{para}</p><p>{para}</p></article>"
        "<footer>版权所有 联系我们</footer></body></html>"
    )
    url = server.add("/info/1012/3456.htm", html)
    r = collect({"name": "notice", "type": "site", "urls": [url], "delay": 0})
    assert r.ok, r.error
    [p] = r.posts
    assert "学院召开大会" in p.title
    assert para in p.text and "版权所有" not in p.text


def test_search_expands_query_in_gbk_once_per_entity(server, collect):
    server.add("/search", RSS_GB2312, content_type="application/rss+xml")
    ctx = CollectContext(queries=["江西警察学院", "江西警院", "江西警察学院"])
    r = collect(
        {
            "name": "s",
            "type": "search",
            "url": server.url("/search?q={query}"),
            "query_encoding": "gbk",
            "delay": 0,
        },
        ctx=ctx,
    )
    assert r.ok, r.error
    searched = [path for _, path, _ in server.log if path.startswith("/search")]
    assert searched == [
        "/search?q=%BD%AD%CE%F7%BE%AF%B2%EC%D1%A7%D4%BA",
        "/search?q=%BD%AD%CE%F7%BE%AF%D4%BA",
    ]
    assert {p.extra["query"] for p in r.posts} == {"江西警察学院", "江西警院"}


def test_search_url_template_in_utf8():
    assert (
        expand("https://s.example.com/rss?q={query}", "江西 警察")
        == "https://s.example.com/rss?q=%E6%B1%9F%E8%A5%BF%20%E8%AD%A6%E5%AF%9F"
    )


def test_search_in_site_format_crawls_result_pages(server, collect):
    server.add("/s", board_page(1, [7, 8], None), content_type="text/html")
    for t in (7, 8):
        server.add(f"/thread-{t}-1-1.html", thread_page(t), content_type="text/html")
    r = collect(
        {
            "name": "fs",
            "type": "search",
            "url": server.url("/s?kw={query}"),
            "format": "site",
            "query_encoding": "gbk",
            "delay": 0,
            **DISCUZ,
        }
    )
    assert r.ok, r.error
    assert len(r.posts) == 2


def test_search_template_without_query_placeholder_is_rejected():
    with pytest.raises(ValidationError, match=r"\{query\}"):
        source_types()["search"].config_model.model_validate(
            {"name": "s", "type": "search", "url": "https://s.example.com/rss"}
        )


def test_unknown_site_key_is_rejected():
    with pytest.raises(ValidationError, match="extra"):
        source_types()["site"].config_model.model_validate(
            {"name": "s", "type": "site", "urls": ["http://a/"], "selectors": {}}
        )


def test_refused_connection_is_reported_not_raised(collect):
    r = collect({"name": "dead", "type": "feed", "url": "http://127.0.0.1:9/rss.xml", "delay": 0})
    assert r.error_kind == "refused" and r.posts == []
    r = collect(
        {
            "name": "dead",
            "type": "site",
            "urls": ["http://127.0.0.1:9/"],
            "delay": 0,
            "obey_robots": False,
        }
    )
    assert r.error_kind == "refused", (r.error_kind, r.error)


def test_state_passes_through_unchanged_on_error(collect):
    state = SourceState(etag='"x"', data={"k": 1})
    r = collect(
        {"name": "dead", "type": "feed", "url": "http://127.0.0.1:9/rss.xml", "delay": 0},
        state=state,
    )
    assert r.state.etag == '"x"' and r.state.data == {"k": 1}


def test_big5_article_page_decodes_from_its_meta_tag(server, collect):
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"><title>校園公告</title>'
        '</head><body><div id="c">本校將於下週舉行運動會，請同學踴躍參加。</div></body></html>'
    )
    url = server.add("/big5.html", html.encode("big5"), content_type="text/html")
    r = collect({"name": "tw", "type": "site", "urls": [url], "delay": 0, "fields": {"body": "#c"}})
    [p] = r.posts
    assert p.title == "校園公告" and p.text == "本校將於下週舉行運動會，請同學踴躍參加。"
    assert p.snapshot.encoding == "big5hkscs"


def test_site_encoding_override_beats_a_wrong_header(server, collect):
    html = (
        '<html><head><title>通知</title></head><body><div id="c">学院通知全文</div></body></html>'
    )
    url = server.add("/gbk.html", html.encode("gbk"), content_type="text/html; charset=utf-8")
    r = collect(
        {
            "name": "o",
            "type": "site",
            "urls": [url],
            "delay": 0,
            "fields": {"body": "#c"},
            "encoding": "gbk",
        }
    )
    assert [p.text for p in r.posts] == ["学院通知全文"]
