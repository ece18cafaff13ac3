"""The simulated campus web over loopback: encodings, pagination, timing, the feed's
conditional GET, reposts, robots.txt, and the demo configuration."""

from __future__ import annotations

import re
import urllib.robotparser
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import feedparser
import pytest
import trafilatura
import yaml
from parsel import Selector

from demo.scenario import default_scenario
from demo.world import CampusWorld
from tests.demo.conftest import HandClock, fetch

SCENARIO = default_scenario()
END = SCENARIO.duration + 1


def _css(selector: Selector, spec: str) -> list[str]:
    """Apply a selector as written in sentinel.yaml ("css::text", "css::attr(x)" or plain css)."""
    return [s.strip() for s in selector.css(spec).getall()]


def _forum_source(cfg: dict) -> dict:
    return next(s for s in cfg["sources"] if s["name"] == "campus-forum")


# -- the GBK forum ----------------------------------------------------------------


def test_forum_list_is_really_gbk(world, clock):
    clock.t = END
    r = fetch(world.urls["forum"])
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        r.body.decode("utf-8")
    html = r.body.decode("gbk")
    assert '<meta charset="gbk" />' in html
    assert "江西警察学院" in html
    assert "食堂的事还没完？江西警院二食堂今天又涨价了" in html
    assert "食堂".encode("gbk") in r.body


def test_forum_thread_page_has_discuz_markup_in_gbk(world, clock):
    clock.t = END
    post = SCENARIO.post("canteen-inquiry")
    r = fetch(world.post_url(post))
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=gbk"
    html = r.body.decode("gbk")
    sel = Selector(text=html)
    fields = _forum_source(world.sentinel_config(Path("/tmp/x"), 25, delay=0))["fields"]
    assert _css(sel, fields["title"]) == [post.title]
    assert _css(sel, fields["author"]) == ["警院小白"]
    body = " ".join(sel.css(fields["body"] + " ::text").getall())
    assert "一份青椒肉丝从8块涨到了12块" in body and "给个说法" in body
    published = _css(sel, fields["published"])
    assert len(published) == 1
    assert re.fullmatch(r"发表于 \d{4}-\d\d-\d\d \d\d:\d\d", published[0])
    assert published[0].endswith(world.published_at(post).strftime("%Y-%m-%d %H:%M"))
    assert sel.css("#thread_views::text").get() == str(post.views)
    assert sel.css("#thread_replies::text").get() == str(post.replies)


def test_forum_shows_relative_times_for_fresh_posts(world, clock):
    post = SCENARIO.post("canteen-second-wave")
    assert post.relative_time
    clock.t = post.appear_after + 3 * 60 + 5
    html = fetch(world.post_url(post)).body.decode("gbk")
    em = Selector(text=html).css("em[id^=authorposton]::text").get()
    assert em == "发表于 3分钟前"


def test_forum_list_paginates_with_discuz_links(world, clock):
    clock.t = END
    src = _forum_source(world.sentinel_config(Path("/tmp/x"), 25, delay=0))
    url, seen, pages = src["urls"][0], [], 0
    while url:
        r = fetch(url)
        assert r.status == 200
        sel = Selector(text=r.body.decode("gbk"))
        links = _css(sel, src["list"]["item"])
        assert links and all(re.fullmatch(r"thread-\d+-1-1\.html", h) for h in links)
        seen += [urljoin(url, h) for h in links]
        nxt = _css(sel, src["list"]["next"])
        assert len(nxt) <= 1
        url = urljoin(url, nxt[0]) if nxt else None
        pages += 1
    forum_posts = [p for p in SCENARIO if p.site == "forum"]
    assert pages == 2 <= src["list"]["max_pages"]
    assert len(seen) == len(set(seen)) == len(forum_posts)
    assert set(seen) == {world.post_url(p) for p in forum_posts}
    assert fetch(world.base_url + "/forum/forum-2-3.html").status == 404


def test_forum_list_is_newest_first(world, clock):
    clock.t = END
    html = fetch(world.urls["forum"]).body.decode("gbk")
    first = Selector(text=html).css("a.s.xst::text").get()
    assert first == SCENARIO.post("canteen-second-wave").title


# -- timing -----------------------------------------------------------------------


def test_posts_appear_only_when_their_time_has_come(world, clock):
    inquiry = SCENARIO.post("canteen-inquiry")
    hype_news = SCENARIO.post("canteen-hype-news")
    clock.t = 0
    assert fetch(world.post_url(inquiry)).status == 404
    assert fetch(world.post_url(hype_news)).status == 404
    assert inquiry.title.encode("gbk") not in fetch(world.urls["forum"]).body
    assert hype_news.title not in fetch(world.urls["rss"]).body.decode("utf-8")
    # Posts already online at the start are there.
    assert SCENARIO.post("noise-roadtrip").title.encode("gbk") in fetch(world.urls["forum"]).body

    clock.t = inquiry.appear_after
    assert fetch(world.post_url(inquiry)).status == 200
    assert inquiry.title.encode("gbk") in fetch(world.urls["forum"]).body
    assert fetch(world.post_url(hype_news)).status == 404

    clock.t = hype_news.appear_after
    r = fetch(world.post_url(hype_news))
    assert r.status == 200 and hype_news.title in r.body.decode("utf-8")
    assert hype_news.title in fetch(world.urls["rss"]).body.decode("utf-8")


def test_speed_compresses_the_timeline():
    clock = HandClock()
    with CampusWorld(clock=clock, speed=10) as world:
        post = SCENARIO.post("canteen-hype")  # 35 scenario seconds
        clock.t = 3.4
        assert fetch(world.post_url(post)).status == 404
        clock.t = 3.5
        assert fetch(world.post_url(post)).status == 200
        assert world.published_at(post) == world.epoch + timedelta(seconds=3.5)


def test_timeline_is_short_and_starts_soon():
    sensitive = [p for p in SCENARIO if p.kind in ("inquiry", "hype", "illegal", "constructive")]
    assert min(p.appear_after for p in sensitive) <= 10
    assert SCENARIO.duration <= 180
    waves = {p.wave for p in SCENARIO if p.kind == "hype"}
    assert waves == {1, 2}
    second = min(p.appear_after for p in SCENARIO if p.wave == 2)
    assert second > max(p.appear_after for p in SCENARIO if p.wave == 1)


def test_scenario_covers_every_strand():
    kinds = {p.kind for p in SCENARIO}
    assert kinds == {"inquiry", "hype", "illegal", "constructive", "neutral", "noise"}
    assert "明晚八点操场集合" in SCENARIO.post("rumour-gathering").text
    assert "建议学校" in SCENARIO.post("canteen-suggestion").text
    assert any("毕业典礼" in p.title for p in SCENARIO.of_kind("neutral"))
    assert any("运动会" in p.title for p in SCENARIO.of_kind("neutral"))
    # The college is named plainly, by short name and by evasions.
    texts = [p.text for p in SCENARIO]
    for variant in ("江西警察学院", "江西警院", "江西警*察学院", "JX警院"):
        assert any(variant in t for t in texts), variant
    # Noise never names the college (the similar-named school is a different one).
    for p in SCENARIO.of_kind("noise"):
        assert "江西警察学院" not in p.text and "江西警院" not in p.text
    # Every neutral and sensitive post names the college somehow.
    for p in SCENARIO:
        if p.kind != "noise":
            assert re.search(r"江西警|JX警院|江 西 警", p.text), p.key


# -- reposts ----------------------------------------------------------------------


def test_hype_is_reposted_on_several_sites(world, clock):
    clock.t = END
    original = SCENARIO.post("canteen-hype")
    reposts = SCENARIO.reposts_of("canteen-hype")
    assert {p.site for p in reposts} | {original.site} == {"forum", "news", "tieba"}
    phrase = "饭菜价格涨了这么多，卫生还这么差"
    pages = {}
    for p in [original, *reposts]:
        r = fetch(world.post_url(p))
        assert r.status == 200
        pages[p.key] = r.body.decode("gbk" if p.site == "forum" else "utf-8")
    copies = [k for k, html in pages.items() if phrase in html]
    assert len(copies) >= 3
    sites_with_copies = {SCENARIO.post(k).site for k in copies}
    assert sites_with_copies == {"forum", "tieba"}
    # The second wave is reposted too.
    assert {p.site for p in SCENARIO.reposts_of("canteen-second-wave")} == {"tieba", "news"}


def test_tieba_lists_and_threads(world, clock):
    clock.t = END
    cfg = world.sentinel_config(Path("/tmp/x"), 25, delay=0)
    src = next(s for s in cfg["sources"] if s["name"] == "tieba-bar")
    r = fetch(src["urls"][0])
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8"
    sel = Selector(text=r.body.decode("utf-8"))
    links = _css(sel, src["list"]["item"])
    assert len(links) == 5
    nxt = _css(sel, src["list"]["next"])
    page2 = Selector(text=fetch(urljoin(src["urls"][0], nxt[0])).body.decode("utf-8"))
    links += _css(page2, src["list"]["item"])
    assert not _css(page2, src["list"]["next"])
    assert len(links) == len([p for p in SCENARIO if p.site == "tieba"])
    post = SCENARIO.post("canteen-hype-jx")
    thread = Selector(
        text=fetch(urljoin(src["urls"][0], f"/tieba/p/{post.id}")).body.decode("utf-8")
    )
    assert _css(thread, src["fields"]["title"]) == [post.title]
    assert _css(thread, src["fields"]["author"]) == [post.author]
    assert "JX警院二食堂" in " ".join(thread.css(src["fields"]["body"] + " ::text").getall())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", _css(thread, src["fields"]["published"])[0])


# -- the news site and its feed ---------------------------------------------------


def test_news_article_is_plain_html_for_main_text_extraction(world, clock):
    clock.t = END
    post = SCENARIO.post("news-graduation")
    r = fetch(world.post_url(post))
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8"
    html = r.body.decode("utf-8")
    assert "class=" not in html.split("<main>")[1]
    text = trafilatura.extract(html) or ""
    assert "毕业生毕业典礼暨学位授予仪式" in text
    assert "违法和不良信息举报电话" not in text  # the footer is not the article
    index = fetch(world.urls["news"]).body.decode("utf-8")
    assert f'href="info/{post.id}.htm"' in index


def test_feed_is_rss2_with_visible_items(world, clock):
    clock.t = END
    r = fetch(world.urls["rss"])
    assert r.status == 200 and r.header("Content-Type").startswith("application/rss+xml")
    feed = feedparser.parse(r.body)
    assert feed.version == "rss20" and not feed.bozo
    news = [p for p in SCENARIO if p.site == "news"]
    assert [e.title for e in feed.entries] == [p.title for p in world.visible("news")]
    assert len(feed.entries) == len(news)
    assert {e.link for e in feed.entries} == {world.post_url(p) for p in news}
    assert all(e.published_parsed for e in feed.entries)


def test_feed_answers_304_when_unchanged(world, clock):
    clock.t = 20
    first = fetch(world.urls["rss"])
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert first.status == 200 and etag and modified
    r = fetch(world.urls["rss"], {"If-None-Match": etag})
    assert r.status == 304 and r.body == b"" and r.header("ETag") == etag
    r = fetch(world.urls["rss"], {"If-Modified-Since": modified})
    assert r.status == 304
    r = fetch(world.urls["rss"], {"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert r.status == 200  # If-None-Match wins
    # A new item changes the feed: the old validators no longer match.
    clock.t = SCENARIO.post("canteen-hype-news").appear_after
    r = fetch(world.urls["rss"], {"If-None-Match": etag, "If-Modified-Since": modified})
    assert r.status == 200 and r.header("ETag") != etag
    assert "网传江西警察学院食堂饭菜出现异物" in r.body.decode("utf-8")
    r2 = fetch(world.urls["rss"], {"If-Modified-Since": modified})
    assert r2.status == 200


# -- odds and ends ----------------------------------------------------------------


def test_robots_txt_allows_everything(world, clock):
    r = fetch(world.urls["robots"])
    assert r.status == 200
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(r.body.decode().splitlines())
    clock.t = END
    for url in (world.urls["forum"], world.urls["rss"], world.post_url("canteen-hype-jx")):
        assert rp.can_fetch("sentinel/0.1", url)


def test_unknown_paths_404_and_head_works(world, clock):
    assert fetch(world.base_url + "/nope").status == 404
    assert fetch(world.base_url + "/forum/thread-999-1-1.html").status == 404
    assert "主题不存在".encode("gbk") in fetch(world.base_url + "/forum/thread-999-1-1.html").body
    r = fetch(world.urls["forum"], method="HEAD")
    assert r.status == 200 and r.body == b"" and int(r.header("Content-Length")) > 1000
    assert ("HEAD", "/forum/forum-2-1.html") in [(m, p) for m, p, _ in world.requests]


def test_world_binds_loopback_on_a_free_port_and_stops(clock):
    a, b = CampusWorld(clock=clock).start(), CampusWorld(clock=clock).start()
    try:
        assert a.base_url.startswith("http://127.0.0.1:") and a.port != b.port
    finally:
        a.stop()
        b.stop()
    assert not a.running
    with pytest.raises(OSError):
        fetch(a.urls["robots"])


# -- the demo's configuration -----------------------------------------------------

CONTRACT_KEYS = {"database", "timezone", "watchlists", "sources", "smtp", "recipients", "digests"}
SOURCE_KEYS = {"name", "label", "type", "url", "urls", "interval", "list", "fields", "format"}


def test_sentinel_config_uses_only_contract_keys(world, tmp_path):
    cfg = world.sentinel_config(tmp_path / "var", 2525)
    assert set(cfg) <= CONTRACT_KEYS
    assert cfg["database"] == f"sqlite:///{(tmp_path / 'var').resolve() / 'sentinel.db'}"
    assert cfg["timezone"] == "Asia/Shanghai"
    assert [s["type"] for s in cfg["sources"]].count("feed") == 1
    assert [s["type"] for s in cfg["sources"]].count("site") == 2
    for s in cfg["sources"]:
        assert set(s) <= SOURCE_KEYS
        assert s["url" if s["type"] == "feed" else "urls"]
        seconds = int(s["interval"].rstrip("s"))
        assert 5 <= seconds <= 10
        for u in [s.get("url")] + s.get("urls", []):
            if u:
                assert any(
                    u.startswith(world.site_url(site)) for site in ("forum", "news", "tieba")
                )
    assert set(_forum_source(cfg)["fields"]) == {"title", "body", "author", "published"}
    assert cfg["smtp"] == {
        "host": "127.0.0.1",
        "port": 2525,
        "security": "none",
        "from": "舆情监测 <yuqing@jxpc.example.edu.cn>",
    }
    assert set(cfg["recipients"]) == {"office", "leaders", "superior"}
    # It survives a round trip through YAML unchanged.
    assert yaml.safe_load(yaml.safe_dump(cfg, allow_unicode=True)) == cfg


def test_sentinel_config_loads_with_the_project_loader(world, tmp_path):
    from sentinel import config as config_mod

    path = tmp_path / "sentinel.yaml"
    path.write_text(
        yaml.safe_dump(world.sentinel_config(tmp_path / "var", 2525, delay=0), allow_unicode=True),
        encoding="utf-8",
    )
    cfg = config_mod.load(path)
    assert {s.name for s in cfg.sources} == {"news-feed", "campus-forum", "tieba-bar"}
    assert cfg.smtp.port == 2525


def test_each_site_has_its_own_address_so_spread_across_sites_is_measurable():
    with CampusWorld(clock=lambda: 1e6) as world:
        hosts = {urlsplit(world.urls[k]).hostname for k in ("forum", "news", "tieba")}
        assert hosts == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
        for key in ("forum", "news", "tieba"):
            with urlopen(world.urls[key], timeout=10) as r:
                assert r.status == 200
        for post in world.scenario.posts:
            assert urlsplit(world.post_url(post)).hostname == world.site_hosts[post.site]
