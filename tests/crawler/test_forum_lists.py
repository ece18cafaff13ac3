"""The Tieba thread list and the Discuz! board of gne-zh-pages crawl with a source
defined in sentinel.yaml only: no code. The pages are read from ../shared (GPL
fixtures, never copied into the project) and served on 127.0.0.1."""

from __future__ import annotations

import textwrap

from crawler.base import CollectContext, SourceState, collect_all
from crawler.registry import source_types
from sentinel import config as sentinel_config
from tests.conftest import CORPUS

LISTS = CORPUS / "gne-zh-pages" / "test_list_page"

YAML = """\
timezone: Asia/Shanghai
sources:
  - name: tieba-hot
    type: site
    urls: ["{tieba}"]
    interval: 10m
    delay: 0
    list:
      row: "li.j_thread_list"
      item: "a.j_th_tit::attr(href)"
      next: "a.next::attr(href)"
      max_pages: 2
      fields:
        title: "a.j_th_tit::text"
        body: "div.threadlist_abs::text"
        author: "a.frs-author-name::text"
        replies: "span.threadlist_rep_num::text"
        published: "span.is_show_create_time::text"
  - name: nsh-board
    type: site
    urls: ["{discuz}"]
    interval: 15m
    delay: 0
    list:
      row: "tbody[id^=normalthread]"
      item: "a.s.xst::attr(href)"
      next: "a.nxt::attr(href)"
      max_pages: 2
      fields:
        title: "a.s.xst::text"
        author: "td.by cite a::text"
        published: "td.by em span::text"
        replies: "td.num a::text"
        views: "td.num em::text"
"""


def load_sources(tmp_path, **urls):
    path = tmp_path / "sentinel.yaml"
    path.write_text(YAML.format(**urls), encoding="utf-8")
    cfg = sentinel_config.load(path)
    return {s.name: s for s in cfg.sources}


def run(source, ctx=None):
    kind = source_types()[source.type]
    return collect_all(kind(source, context=ctx or CollectContext()), SourceState())


def test_tieba_list_rows_become_posts_from_yaml_only(server, tmp_path):
    url = server.add_file("/f", LISTS / "tieba" / "1.html", content_type="text/html")
    sources = load_sources(tmp_path, tieba=url, discuz=server.url("/unused"))
    r = run(sources["tieba-hot"])
    assert r.ok, r.error
    assert len(r.posts) == 50
    by_title = {p.title: p for p in r.posts}
    p = by_title["救援人员推测：青海失联女大学生抱轻生目的到达可可西里"]
    assert p.url == server.url("/p/6855574054")
    assert p.replies == 22 and p.author == "这个头像..."
    assert p.text.startswith("8月1日，青海省格尔木公安局通报称")
    assert p.published_at is not None and p.published_at.strftime("%H:%M") == "08:52"
    assert (
        p.snapshot.final_url == url and p.snapshot.body == (LISTS / "tieba" / "1.html").read_bytes()
    )
    # The next-page link leads to tieba.baidu.com: outside the allowed domains, not followed.
    assert not any("baidu" in path for _, path, _ in server.log)


def test_discuz_board_rows_and_pagination_from_yaml_only(server, tmp_path):
    # The saved board has <base href="https://n.netease.com/">: served from here, the
    # base must name this host or every link resolves (correctly) off-site.
    raw = (
        (LISTS / "netease_forum" / "1.html")
        .read_bytes()
        .replace(
            b'<base href="https://n.netease.com/">', f'<base href="{server.url("/")}">'.encode()
        )
    )
    url = server.add("/forum-9-1.html", raw, content_type="text/html")
    server.add("/forum-9-2.html", raw, content_type="text/html")  # page 2: same rows, deduplicated
    sources = load_sources(tmp_path, tieba=server.url("/unused"), discuz=url)
    r = run(sources["nsh-board"])
    assert r.ok, r.error
    assert server.requests_to("/forum-9-2.html") == 1
    by_url = {p.url: p for p in r.posts}
    assert len(by_url) == 40
    p = by_url[server.url("/thread-202643-1-1.html")]
    assert p.title == "新买的机子老出现游戏卡屏或卡崩"
    assert p.author == "撅撅撅" and p.replies == 22 and p.views == 1171
    assert p.published_at.date().isoformat() == "2020-07-19"


def test_discuz_board_served_as_gbk_decodes_without_replacement_characters(server, tmp_path):
    text = (
        (LISTS / "netease_forum" / "1.html")
        .read_text("utf-8")
        .replace("charset=utf-8", "charset=gbk")
    )
    text = text.replace('<base href="https://n.netease.com/">', f'<base href="{server.url("/")}">')
    url = server.add(
        "/forum-9-1.html", text.encode("gbk", "xmlcharrefreplace"), content_type="text/html"
    )
    sources = load_sources(tmp_path, tieba=server.url("/unused"), discuz=url)
    r = run(sources["nsh-board"])
    assert r.ok and len(r.posts) == 40
    assert all("\ufffd" not in p.title for p in r.posts)
    assert "新买的机子老出现游戏卡屏或卡崩" in {p.title for p in r.posts}
    assert r.posts[0].snapshot.encoding == "gb18030"


def test_board_links_resolve_against_the_pages_base_href(server, tmp_path):
    url = server.add_file(
        "/forum-9-1.html", LISTS / "netease_forum" / "1.html", content_type="text/html"
    )
    sources = load_sources(tmp_path, tieba=server.url("/unused"), discuz=url)
    r = run(sources["nsh-board"])
    assert len(r.posts) == 40
    assert all(p.url.startswith("https://n.netease.com/thread-") for p in r.posts)
    assert server.requests_to("/forum-9-2.html") == 0  # the next page is off-site: not followed


def test_misspelt_site_key_is_reported_with_file_line_and_allowed_keys(tmp_path):
    import pytest

    from core.errors import ConfigError

    path = tmp_path / "sentinel.yaml"
    path.write_text(
        textwrap.dedent("""\
        sources:
          - name: board
            type: site
            urls: [http://127.0.0.1/]
            selectors: {title: h1}
        """),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        sentinel_config.load(path)
    assert str(e.value).startswith(f"{path}:5:")
    assert "fields" in str(e.value)
