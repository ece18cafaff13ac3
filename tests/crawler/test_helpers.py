"""Canonical URLs, Chinese times, encodings and near-duplicate signatures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.dedup import NearDuplicateIndex, signature, similarity
from crawler.encoding import decode, normalise_label
from crawler.selectors import count
from crawler.times import parse_time
from crawler.urls import canonical

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "HTTP://News.Example.EDU.cn:80/a/b.html?id=3&utm_source=wx&spm=a.b#comments",
            "http://news.example.edu.cn/a/b.html?id=3",
        ),
        ("https://example.com:443", "https://example.com/"),
        (
            "https://example.com:8443/x?from=timeline&isappinstalled=0&page=2",
            "https://example.com:8443/x?page=2",
        ),
        ("http://tieba.baidu.com/p/123?fr=frs&pn=2", "http://tieba.baidu.com/p/123?fr=frs&pn=2"),
    ],
)
def test_canonical_url_drops_fragment_tracking_and_default_port(url, expected):
    assert canonical(url) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("刚刚", "2026-11-23 10:00"),
        ("3分钟前", "2026-11-23 09:57"),
        ("2小时前", "2026-11-23 08:00"),
        ("半小时前", "2026-11-23 09:30"),
        ("昨天 12:30", "2026-11-22 12:30"),
        ("前天", "2026-11-21 00:00"),
        ("今天 08:05", "2026-11-23 08:05"),
        ("2026-11-23 08:15", "2026-11-23 08:15"),
        ("2026年11月23日 08:15", "2026-11-23 08:15"),
        ("发表于 2026-11-2 8:05", "2026-11-02 08:05"),
        ("11月23日", "2026-11-23 00:00"),
        ("12-25 10:00", "2025-12-25 10:00"),  # no year and in the future: last year
        ("2026/11/20", "2026-11-20 00:00"),
        ("16:10", "2026-11-23 16:10"),
    ],
)
def test_chinese_times_become_absolute_in_the_configured_zone(text, expected):
    got = parse_time(text, NOW, TZ)
    assert got is not None and got.astimezone(TZ).strftime("%Y-%m-%d %H:%M") == expected


def test_iso_and_rfc822_times_keep_their_offsets():
    assert parse_time("2026-11-23T08:15:00Z", NOW, TZ).isoformat() == "2026-11-23T08:15:00+00:00"
    assert (
        parse_time("Mon, 23 Nov 2026 08:15:00 +0800", NOW, TZ).isoformat()
        == "2026-11-23T08:15:00+08:00"
    )
    assert parse_time("1795400000", NOW, TZ).tzinfo is not None


def test_unparseable_time_is_none():
    assert parse_time("置顶", NOW, TZ) is None
    assert parse_time("", NOW, TZ) is None


def test_gb2312_and_big5_labels_read_as_supersets():
    assert normalise_label("GB2312") == "gb18030"
    assert normalise_label("gbk") == "gb18030"
    assert normalise_label("BIG5") == "big5hkscs"
    assert normalise_label("no-such-charset") is None


def test_utf8_bytes_win_over_a_lying_gbk_meta_tag():
    body = '<html><head><meta charset="gbk"></head><body>江西警察学院</body></html>'.encode()
    d = decode(body, "text/html")
    assert d.encoding == "utf-8" and "江西警察学院" in d.text


def test_gbk_bytes_with_header_charset_decode():
    body = "<p>学院食堂</p>".encode("gbk")
    assert decode(body, "text/html; charset=GBK").text == "<p>学院食堂</p>"


def test_undeclared_gbk_is_detected():
    body = ("<p>" + "江西警察学院召开全体教职工大会，部署新学期校园安全工作。" * 5 + "</p>").encode(
        "gbk"
    )
    d = decode(body, None)
    assert d.encoding == "gb18030" and "\ufffd" not in d.text


@pytest.mark.parametrize(
    "text, n", [("1171", 1171), ("回复 22", 22), ("1.2万", 12000), ("3k", 3000), ("", None)]
)
def test_counts_read_chinese_units(text, n):
    assert count(text) == n


ORIGINAL = "江西警察学院食堂发生学生集体腹泻事件，十余名学生送医治疗，学校表示正在配合有关部门调查处理，将及时公布结果。"


def test_repost_with_prefix_and_source_is_a_near_duplicate():
    index = NearDuplicateIndex(threshold=0.6)
    index.add("post-1", signature(ORIGINAL))
    index.add(
        "post-2",
        signature(
            "今天天气晴朗，图书馆新到一批图书，欢迎同学们前来借阅，开放时间为早八点到晚十点。"
        ),
    )
    repost = "转发微博：" + ORIGINAL + "（来源：某某新闻）"
    assert index.query(signature(repost)) == ["post-1"]
    assert similarity(signature(ORIGINAL), signature(repost)) > 0.6


def test_signatures_are_bytes_that_survive_a_round_trip():
    sig = signature(ORIGINAL)
    assert isinstance(sig, bytes)
    index = NearDuplicateIndex()
    index.add(1, bytes(bytearray(sig)))
    assert index.query(sig) == [1]
    index.remove(1)
    assert index.query(sig) == [] and len(index) == 0
