"""Writers, times and headlines are right or empty; the extractor choice and list
recognition on made pages; hostile pages cost bounded time."""

from __future__ import annotations

import time

import pytest

from crawler import article_meta
from crawler.article import choose, extract_article


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


PROSE = "".join(
    f"<p>第{i}段：学院召开会议，部署新学期的安全工作，要求各部门认真落实。</p>" for i in range(12)
)


@pytest.mark.parametrize(
    "meta_author",
    [
        "Name; Email Com",
        "Discuz Team; Comsenz UI Team",
        "作者",
        "网易",
        "环球网",
        "admin",
        "editor@example.com",
        "https://www.example.com",
        "责任编辑",
    ],
)
def test_garbage_in_the_author_meta_tag_gives_no_author(meta_author):
    html = page(
        f"<h1>学院召开安全工作会议</h1><div>{PROSE}</div>",
        f"<title>学院召开安全工作会议_网易新闻</title><meta name='author' content='{meta_author}'>",
    )
    assert extract_article(html)["author"] is None


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("（记者 裴剑飞）", "裴剑飞"),
        ("澎湃新闻记者 段彦超 廖艳", "段彦超 廖艳"),
        ("作者：李明　来源：校报", "李明"),
        ("采写：南都见习记者 林子沛", "林子沛"),
        ("文/张三", "张三"),
        ("记者表示，会议已经结束。", None),  # a verb after 记者 is not a name
        ("新华社记者 才扬 摄", None),  # a photographer, not the writer
        ("作者：医技药剂党支部时间：2019年10月31日", None),  # no boundary after a name
    ],
)
def test_bylines_give_the_writer_or_nothing(byline, author):
    html = page(f"<h1>学院召开安全工作会议</h1><div><p>{byline}</p>{PROSE}</div>")
    assert extract_article(html)["author"] == author


def test_meta_author_that_reads_as_a_name_is_kept():
    html = page(f"<div>{PROSE}</div>", "<title>通知</title><meta name='author' content='马娟'>")
    assert extract_article(html)["author"] == "马娟"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间：2019-09-24 09:10", "2019-09-24 09:10:00"),
        ("2019年10月31日 23:00", "2019-10-31 23:00:00"),
        ("2007-08-20-23:59:59", "2007-08-20 23:59:59"),
        ("2019-09-09T16:19:28+08:00", "2019-09-09 16:19:28+08:00"),
        ("2019年2月30日", None),
        ("1970-01-01", None),
        ("2999-01-01", None),
        ("浏览次数：2168", None),
    ],
)
def test_dates_are_real_dates_or_none(text, expected):
    assert article_meta.clean_date(text) == expected


def test_date_comes_from_the_line_under_the_headline_not_from_the_text():
    html = page(
        "<h1>学院召开安全工作会议</h1><div>来源：校报 2026-11-20 10:00</div>"
        f"<div><p>会议回顾了2019年6月1日的工作。</p>{PROSE}</div>"
    )
    assert extract_article(html)["date"] == "2026-11-20 10:00:00"


def test_headline_without_the_site_name():
    html = page(
        f"<div class='share-title'>学院召开安全工作会议-新华网</div><h1>学院召开安全工作会议</h1>{PROSE}",
        "<title>学院召开安全工作会议-新华网</title>",
    )
    assert extract_article(html)["title"] == "学院召开安全工作会议"


def test_a_board_of_links_is_a_list_not_an_article():
    rows = "".join(
        f"<li><a href='/t/{i}'>第{i}个帖子的标题写得比较长一些</a><span>{i}</span></li>"
        for i in range(60)
    )
    out = extract_article(page(f"<ul>{rows}</ul>", "<title>某某吧</title>"))
    assert out["kind"] == "list" and out["text"] == "" and out["links"] == 60


def test_a_short_article_among_many_links_is_still_an_article():
    links = "".join(f"<li><a href='/n/{i}'>相关新闻标题第{i}条比较长</a></li>" for i in range(60))
    body = (
        "<div class='article'><p>今日，学院发布通知：因天气原因，原定于明日举行的运动会推迟一周举行，"
        "请各系部做好相应调整，具体时间另行通知。</p></div>"
    )
    out = extract_article(page(f"<h1>运动会推迟举行</h1>{body}<ul>{links}</ul>"))
    assert out["kind"] == "article" and "运动会推迟一周举行" in out["text"]


def test_choice_rule():
    article = "\n".join(f"第{i}段，学院召开会议，部署新学期的安全工作。" for i in range(10))
    furniture = "字号\n分享到\n" + article + "\n相关新闻\n某某新闻标题"
    assert choose(article, furniture) == "density"  # same article: the clean one
    assert choose("", article) == "trafilatura"  # the density extractor found nothing
    half = "\n".join(article.split("\n")[:3])
    assert choose(half, article) == "trafilatura"  # trafilatura has prose it missed
    other = "\n".join(f"另一篇文章的第{i}句，内容完全不同，说的是别的事情。" for i in range(10))
    assert choose(other, article) == "trafilatura"  # they disagree: the general extractor


def test_hostile_pages_are_read_in_bounded_time():
    deep = "<div>" * 20_000 + "正文，很深。" + "</div>" * 20_000
    links = "".join(f"<a href='/{i}'>链接标题第{i}号比较长</a><br>" for i in range(10_000))
    for html in (page(deep), page(links), page("<p>" + "字，" * 100_000 + "</p>")):
        t = time.monotonic()
        out = extract_article(html)
        assert isinstance(out["text"], str)
        assert time.monotonic() - t < 30


def test_links_in_a_paragraph_stay_and_a_related_block_goes():
    para = (
        "<p>会议由<a href='/a'>张三</a>主持，<a href='/b'>李四</a>、<a href='/c'>王五</a>出席。</p>"
    )
    related = (
        "<div class='rel'>"
        + "".join(f"<a href='/r{i}'>相关新闻标题第{i}条</a>" for i in range(5))
        + "</div>"
    )
    out = extract_article(page(f"<h1>学院召开安全工作会议</h1><div>{PROSE}{para}{related}</div>"))
    assert "会议由张三主持，李四、王五出席。" in out["text"]
    assert "相关新闻标题" not in out["text"]
