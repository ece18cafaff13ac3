"""``preset: NAME``: a source for a Chinese platform in two lines of sentinel.yaml. Each
preset reads, on 127.0.0.1, a page or feed of the same shape as the platform's (the
fixtures in tests/crawler/presets/ follow each platform's result markup; Tieba's search
is served in GBK and reads its query in GBK)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from core.errors import ConfigError
from crawler.base import CollectContext, SourceState, collect_all
from crawler.presets import PRESETS
from crawler.registry import source_types
from sentinel import config as sentinel_config
from tests.conftest import CORPUS

PAGES = Path(__file__).parent / "presets"
COLLEGE = "江西警察学院"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CTX = CollectContext(user_agent="sentinel-test/0.1", queries=[COLLEGE], timezone="Asia/Shanghai")


def load(tmp_path, source_yaml: str):
    path = tmp_path / "sentinel.yaml"
    path.write_text("timezone: Asia/Shanghai\nsources:\n" + source_yaml, encoding="utf-8")
    return sentinel_config.load(path).sources[0]


def run(source):
    return collect_all(source_types()[source.type](source, context=CTX), SourceState())


def on_loopback(template: str, server) -> str:
    """The preset's own URL template, pointed at the loopback server (same path, same query)."""
    parts = urlsplit(template)
    return template.replace(f"{parts.scheme}://{parts.netloc}", server.url("").rstrip("/"))


def asked(server, path: str) -> dict[str, list[str]]:
    """The query string of the last request to ``path``, as raw bytes decoded latin-1."""
    raw = [p for _, p, _ in server.log if urlsplit(p).path == path][-1]
    return parse_qs(urlsplit(raw).query, encoding="latin-1")


def test_baidu_news_preset_reads_the_result_rows(server, tmp_path):
    server.add_file("/s", PAGES / "baidu_news.html", content_type="text/html; charset=utf-8")
    template = PRESETS["baidu-news"][2]["url"]
    src = load(
        tmp_path,
        f"""  - name: baidu
    type: search
    preset: baidu-news
    url: "{on_loopback(template, server)}"
    delay: 0
""",
    )
    assert src.format == "site" and src.list.row and not src.render
    r = run(src)
    assert r.ok, r.error
    assert asked(server, "/s")["wd"] == [COLLEGE.encode().decode("latin-1")]
    assert asked(server, "/s")["tn"] == ["news"]
    by_title = {p.title: p for p in r.posts}
    assert set(by_title) == {
        "江西警察学院回应学生食堂饭菜质量问题",
        "江西警察学院2026年毕业典礼举行",
    }
    p = by_title["江西警察学院回应学生食堂饭菜质量问题"]
    assert p.url == "https://www.chinanews.example.com/sh/2026/11-30/10012345.shtml"
    assert p.text.startswith("近日，有网友反映江西警察学院食堂饭菜质量下降")
    assert p.author == "中国新闻网"
    fetched = p.snapshot.fetched_at.astimezone(SHANGHAI)
    assert 2.9 * 3600 <= (fetched - p.published_at).total_seconds() <= 3.1 * 3600  # 3小时前
    q = by_title["江西警察学院2026年毕业典礼举行"]
    assert q.published_at.astimezone(SHANGHAI).date().isoformat() == "2026-11-29"


def test_sogou_weixin_preset_reads_account_and_time_from_the_markup(server, tmp_path):
    server.add_file("/weixin", PAGES / "sogou_weixin.html", content_type="text/html; charset=utf-8")
    template = PRESETS["sogou-weixin"][2]["url"]
    src = load(
        tmp_path,
        f"""  - name: weixin
    type: search
    preset: sogou-weixin
    url: "{on_loopback(template, server)}"
    delay: 0
""",
    )
    r = run(src)
    assert r.ok, r.error
    assert asked(server, "/weixin")["type"] == ["2"]
    assert len(r.posts) == 2
    p = next(p for p in r.posts if "停水" in p.title)
    assert p.title == "关于江西警察学院学生宿舍停水的情况说明"
    assert p.author == "江西警察学院团委"
    assert "送水车" in p.text
    # The time the page writes with a script (timeConvert) comes from the t attribute.
    assert p.published_at == datetime.fromtimestamp(1764489600, SHANGHAI)
    assert p.url.startswith(server.url("/link?url="))


def test_tieba_search_preset_asks_in_gbk_and_reads_a_gbk_page(server, tmp_path):
    server.add_file("/f/search/res", PAGES / "tieba_search.gbk.html", content_type="text/html")
    template = PRESETS["tieba-search"][2]["url"]
    src = load(
        tmp_path,
        f"""  - name: tieba-search
    type: search
    preset: tieba-search
    url: "{on_loopback(template, server)}"
    delay: 0
""",
    )
    assert src.query_encoding == "gbk" and src.encoding == "gbk"
    r = run(src)
    assert r.ok, r.error
    raw = [p for _, p, _ in server.log if p.startswith("/f/search/res")][-1]
    assert f"qw={quote(COLLEGE.encode('gbk'))}" in raw
    assert len(r.posts) == 2
    p = next(p for p in r.posts if "体能测试" in p.title)
    assert p.title == "求问江西警察学院今年的体能测试标准"
    assert p.author == "小明同学"
    assert p.text.startswith("马上要参加江西警察学院的招生体检和体能测试了")
    assert p.published_at == datetime(2026, 11, 30, 21, 15, tzinfo=SHANGHAI)
    assert p.url == server.url("/p/9301234567?pid=150123456789&cid=0")


def test_tieba_preset_reads_a_bar_list_without_selectors(server, tmp_path):
    url = server.add_file(
        "/f",
        CORPUS / "gne-zh-pages" / "test_list_page" / "tieba" / "1.html",
        content_type="text/html",
    )
    src = load(
        tmp_path,
        f"""  - name: bar
    type: site
    preset: tieba
    urls: ["{url}"]
    delay: 0
""",
    )
    r = run(src)
    assert r.ok, r.error
    assert len(r.posts) == 50
    p = next(p for p in r.posts if p.title.startswith("救援人员推测"))
    assert p.replies == 22 and p.author == "这个头像..."


@pytest.mark.parametrize(
    ("preset", "fixture", "route", "extra", "title", "author"),
    [
        (
            "weibo",
            "rsshub_weibo.xml",
            f"/weibo/keyword/{quote(COLLEGE)}",
            "",
            "南昌小李：江西警察学院今天的食堂饭菜又出问题了，学校到底管不管？",
            "南昌小李",
        ),
        (
            "zhihu-topic",
            "rsshub_zhihu_topic.xml",
            "/zhihu/topic/19551137",
            '    queries: ["19551137"]\n',
            "在江西警察学院就读是一种怎样的体验？-匿名用户的回答",
            "匿名用户",
        ),
        (
            "bilibili",
            "rsshub_bilibili_vsearch.xml",
            f"/bilibili/vsearch/{quote(COLLEGE)}",
            "",
            "江西警察学院2026军训汇报表演",
            "警院学生会",
        ),
    ],
)
def test_rsshub_presets_read_the_route_on_the_configured_instance(
    server, tmp_path, preset, fixture, route, extra, title, author
):
    server.add_file(route, PAGES / fixture, content_type="application/rss+xml; charset=utf-8")
    src = load(
        tmp_path,
        f"""  - name: {preset}
    type: search
    preset: {preset}
    rsshub: "{server.url("/")}"
    delay: 0
{extra}""",
    )
    assert src.url == server.url(PRESETS[preset][2]["url"].replace("{rsshub}", ""))
    r = run(src)
    assert r.ok, r.error
    assert server.requests_to(route) == 1
    assert len([p for _, p, _ in server.log if p != "/robots.txt"]) == 1  # no entity name asked
    p = next(p for p in r.posts if p.title == title)
    assert p.author == author and p.published_at is not None


def test_explicit_keys_win_over_the_preset(tmp_path):
    src = load(
        tmp_path,
        """  - name: baidu
    type: search
    preset: baidu-news
    url: "https://www.baidu.com/s?tn=news&wd={query}&pn=10"
    render: true
    list: {fields: {author: "span.source::text"}}
""",
    )
    assert src.url == "https://www.baidu.com/s?tn=news&wd={query}&pn=10"
    assert src.render is True
    assert src.list.fields.author == "span.source::text"
    assert src.list.fields.title == "h3 a" and src.list.row == "div.result-op.c-container"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "  - {name: x, type: search, preset: baidu}\n",
            "未知的预设 'baidu'；可用的预设：baidu-news（百度新闻搜索）",
        ),
        (
            '  - {name: x, type: site, preset: weibo, urls: ["https://weibo.com/"]}\n',
            "预设 weibo 只能用于 search 类型的来源（此来源为 site）",
        ),
        (
            "  - {name: x, type: search, preset: zhihu-topic}\n",
            "queries 中列出要搜索的词（知乎话题 ID",
        ),
    ],
)
def test_a_wrong_preset_is_one_chinese_line_at_its_place(tmp_path, source, expected):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, source)
    assert expected in str(e.value)
    assert str(e.value).startswith(str(tmp_path / "sentinel.yaml") + ":3:")


def test_every_preset_has_a_readme_entry_and_a_test():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    tests = Path(__file__).read_text(encoding="utf-8")
    for name in PRESETS:
        assert f"| `{name}` |" in readme, name
        assert f"preset: {name}" in tests or f'"{name}"' in tests, name
