"""Property-based tests: arbitrary bytes and text never make the decoders, the feed and
page parsers, the text cleaner or the host rules raise. Bounded (a modest number of
examples, no example database written), so they add seconds, not minutes; set
SENTINEL_FUZZ_EXAMPLES=5000 to search harder."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.base import FetchResult, RawPost
from crawler.encoding import decode
from crawler.hosts import host_allowed, own_hosts
from crawler.http import FetchError, _Decoder
from crawler.sanitize import clean_line, clean_text
from crawler.selectors import count, joined
from crawler.sources.feed import parse_feed
from crawler.text import densest_block, extract_main, html_to_text
from crawler.times import parse_time
from crawler.urls import canonical

EXAMPLES = int(os.environ.get("SENTINEL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(
    max_examples=max(1, EXAMPLES // 4),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text that reaches crawlers in practice: any code point, lone surrogates included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# Bits of markup, so the parsers see almost-valid documents, not only noise.
FRAGMENTS = [
    "<",
    ">",
    "</",
    "<?xml version='1.0' encoding='gb2312'?>",
    "<rss version='2.0'>",
    "<channel>",
    "<item>",
    "</item>",
    "<title>",
    "</title>",
    "<link>",
    "</link>",
    "<description>",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#x1b;",
    "&#0;",
    "&lol;",
    "<!DOCTYPE x [<!ENTITY lol 'lol'>]>",
    "<feed xmlns='http://www.w3.org/2005/Atom'>",
    "<entry>",
    "<content type='xhtml'>",
    "<div>",
    "</div>",
    "<a href='http://[::1'>",
    "<meta charset='big5'>",
    "江西警察学院",
    "\x1b]0;t\x07",
    "[/x]",
    "\ufeff",
    "<pubDate>",
    "Mon, 99 Foo 2026 25:61:61 +9999",
    "</pubDate>",
    "<script>",
    "</script>",
]
markupish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), any_text), max_size=40).map("".join)
# A page as the spider's selectors see it: decoded from bytes (strictly, or with U+FFFD
# for what does not decode), so never a lone surrogate.
decoded_page = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=300)), max_size=40
).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=20,
)
ITEM_KEYS = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
    "author",
    "authors",
]
json_items = st.dictionaries(st.sampled_from(ITEM_KEYS), json_values, max_size=8) | json_values
json_feeds = st.fixed_dictionaries(
    {
        "version": st.just("https://jsonfeed.org/version/1.1"),
        "items": st.lists(json_items, max_size=5) | json_values,
    },
    optional={"title": json_values},
)


def result(body: bytes, content_type: str | None = None) -> FetchResult:
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(
        url="http://feed.example/rss",
        final_url="http://feed.example/rss",
        status=200,
        headers=headers,
        body=body,
        fetched_at=datetime.now(UTC),
    )


def clean(post: RawPost) -> bool:
    return not any(CONTROL.search(s or "") for s in (post.url, post.title, post.text, post.author))


@FUZZ
@given(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/xml; charset=gbk",
            "application/rss+xml; charset=big5",
            "text/plain; charset=x",
        ]
    ),
)
def test_decoding_arbitrary_bytes_never_raises(body, content_type):
    d = decode(body, content_type)
    assert (d.text is None) == (d.encoding is None) and (d.text is not None or d.error)


@FUZZ
@given(st.sampled_from(["gzip", "deflate", "br"]), st.binary(max_size=2000))
def test_transport_decoders_raise_only_fetch_errors(coding, body):
    try:
        _Decoder(coding, 1 << 20).feed(body)
    except FetchError as e:
        assert e.kind in ("decode", "too_large")


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=3000), markupish.map(lambda s: s.encode("utf-8", "surrogatepass"))
    ),
    st.sampled_from([None, "application/rss+xml", "application/xml; charset=gb2312"]),
)
def test_parsing_any_bytes_as_a_feed_never_raises_and_yields_clean_posts(body, content_type):
    posts, _warnings, error = parse_feed(result(body, content_type))
    assert all(clean(p) for p in posts)
    assert error is None or "\n" not in error


@FUZZ
@given(json_feeds)
def test_parsing_any_json_feed_never_raises(doc):
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    posts, _warnings, error = parse_feed(result(body, "application/feed+json"))
    assert all(clean(p) for p in posts) and (error is None or "\n" not in error)


@FUZZ
@given(markupish)
def test_html_to_text_and_densest_block_never_raise(fragment):
    assert isinstance(html_to_text(fragment), str)
    assert isinstance(densest_block(fragment), str)


@SLOW
@given(markupish)
def test_main_text_extraction_never_raises(page):
    out = extract_main(page, "http://news.example/a")
    assert isinstance(out["text"], str) and isinstance(out["title"], str)


# What the article extractor and the WeChat parser look for: bylines, dates, metadata,
# WeChat's element ids and script variables, a taken-down notice.
ARTICLE_FRAGMENTS = [
    *FRAGMENTS,
    "<article>",
    "</article>",
    "<h1>",
    "</h1>",
    "<p>",
    "</p>",
    "作者：",
    "来源：",
    "发布时间：2026-11-23 10:00",
    "2026年13月45日 99:99",
    "<time datetime='",
    "'>",
    "<meta property='og:title' content='",
    "<meta name='author' content='",
    "<script type='application/ld+json'>",
    '{"@type": "NewsArticle", "datePublished": ',
    "<span class='byline'>",
    "<a href='/t/1'>这是一个足够长的帖子标题用来当列表</a>",
    "<div id='js_content' style='visibility: hidden'>",
    "<div class='rich_media_content'>",
    "<h1 id='activity-name'>",
    "<span id='js_name'>",
    'var ct = "',
    'var nickname = htmlDecode("',
    "create_time: '",
    "\\u00e6\\x",
    "weui-msg__title",
    "res.wx.qq.com",
    "该内容已被发布者删除",
]
article_page = st.lists(
    st.one_of(st.sampled_from(ARTICLE_FRAGMENTS), st.text(max_size=200)), max_size=60
).map("".join)


@SLOW
@given(
    article_page,
    st.sampled_from([None, "https://mp.weixin.qq.com/s/abc", "http://news.example/a/1.html"]),
)
def test_the_article_extractor_and_the_wechat_parser_never_raise(page, url):
    from crawler import wechat
    from crawler.article import extract_article

    out = extract_article(page, url)
    assert out["kind"] in ("article", "list", "wechat")
    assert isinstance(out["title"], str) and isinstance(out["text"], str)
    w = wechat.extract(page)
    assert isinstance(w["title"], str) and isinstance(w["text"], str)


@SLOW
@given(
    st.one_of(st.binary(max_size=3000), article_page.map(lambda s: s.encode("utf-8"))),
    st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/plain", "image/png"]),
)
def test_reading_a_reported_page_of_any_bytes_never_raises(body, content_type):
    from alerting.incidents.manual import _page_text

    title, text, author = _page_text(result(body, content_type))
    assert isinstance(title, str) and isinstance(text, str)
    assert author is None or isinstance(author, str)


@FUZZ
@given(
    decoded_page,
    st.sampled_from(["div", "p::text", "a::attr(href)", "//div", "title::text", "td.t_f"]),
)
def test_field_selectors_never_raise_on_any_page(page, expr):
    from parsel import Selector

    value = joined(Selector(text=page or "<html></html>"), expr)
    assert value is None or isinstance(value, str)


@FUZZ
@given(any_text)
def test_times_and_counts_never_raise(text):
    parse_time(text, now=datetime(2026, 11, 23, tzinfo=UTC), tz="Asia/Shanghai")
    n = count(text)
    assert n is None or n >= 0


@FUZZ
@given(any_text)
def test_cleaned_text_has_no_control_character_and_is_stable(text):
    body, line = clean_text(text), clean_line(text)
    assert not CONTROL.search(body) and not CONTROL.search(line)
    assert "\n" not in line and "\t" not in line
    assert clean_text(body) == body and clean_line(line) == line
    if not CONTROL.search(text) and "\x1b" not in text:
        assert body == text  # ordinary text is left alone


@FUZZ
@given(any_text, any_text, any_text)
def test_a_raw_post_built_from_anything_is_clean(url, title, text):
    assert clean(RawPost(url=url, title=title, text=text, author=title))


@FUZZ
@given(
    st.one_of(
        any_text, st.builds(lambda h, p, x: f"http://{h}:{p}/{x}", any_text, any_text, any_text)
    ),
    st.lists(any_text, max_size=3),
)
def test_host_rules_and_canonical_urls_never_raise(url, allowed):
    assert isinstance(host_allowed(url, allowed), bool)
    own_hosts([url])
    assert isinstance(canonical(url), str)
