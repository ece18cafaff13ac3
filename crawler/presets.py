"""Ready-made sources for Chinese platforms (``preset: NAME`` on a search or site source).

A preset fills what an office would otherwise work out by hand for the platform: the
URL template, how the query is encoded, whether the answer is a feed or a page, the
list and field selectors for the platform's markup, the page encoding and ``render``.
Every key written in the source wins over the preset's; ``list`` and ``fields`` are
merged key by key, so ``fields: {author: ...}`` replaces only the author's selector.

The selectors follow each platform's result markup as served to a browser without a
login; platforms change their markup, so each preset is tested against pages of the
same shape (tests/crawler/test_presets.py) and the README says what each one sees.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

RSSHUB = "https://rsshub.app"  # the public instance; a self-hosted one is recommended

# name → (source types it fits, Chinese label, the keys it fills)
PRESETS: dict[str, tuple[tuple[str, ...], str, dict[str, Any]]] = {
    "baidu-news": (
        ("search",),
        "百度新闻搜索",
        {
            # tn=news: the news vertical; rtt=4: newest first; medium=0: every kind of outlet.
            "url": "https://www.baidu.com/s?tn=news&rtt=4&bsst=1&cl=2&medium=0&wd={query}",
            "format": "site",
            "render": False,
            "list": {
                "row": "div.result-op.c-container",
                "item": "h3 a::attr(href)",
                "follow": False,
                "fields": {
                    "title": "h3 a",
                    "body": "span[aria-label^='摘要']",
                    "author": "span[aria-label^='新闻来源']::text",
                    "published": "span[aria-label^='发布于']::text",
                },
            },
        },
    ),
    "sogou-weixin": (
        ("search",),
        "搜狗微信搜索（公众号文章）",
        {
            # type=2: articles (type=1 would be accounts).
            "url": "https://weixin.sogou.com/weixin?type=2&ie=utf8&query={query}",
            "format": "site",
            "render": False,
            "list": {
                "row": "ul.news-list > li",
                "item": "div.txt-box h3 a::attr(href)",
                "follow": False,
                "fields": {
                    "title": "div.txt-box h3 a",
                    "body": "p.txt-info",
                    "author": "div.s-p span.all-time-y2::text",
                    # The shown time is written by a script; the attribute holds it.
                    "published": "div.s-p::attr(t)",
                },
            },
        },
    ),
    "tieba-search": (
        ("search",),
        "百度贴吧搜索",
        {
            # ie=gbk: Tieba's search reads its query in GBK; sm=1: newest first.
            "url": "https://tieba.baidu.com/f/search/res?ie=gbk&rn=20&sm=1&qw={query}",
            "query_encoding": "gbk",
            "encoding": "gbk",
            "format": "site",
            "render": False,
            "list": {
                "row": "div.s_post",
                "item": "span.p_title a::attr(href)",
                "follow": False,
                "fields": {
                    "title": "span.p_title a",
                    "body": "div.p_content",
                    "author": "a[href*='/home/main'] font::text",
                    "published": "font.p_date::text",
                },
            },
        },
    ),
    "tieba": (
        ("site",),
        "百度贴吧（某个吧的帖子列表）",
        {
            "render": False,
            "list": {
                "row": "li.j_thread_list",
                "item": "a.j_th_tit::attr(href)",
                "next": "a.next::attr(href)",
                "max_pages": 2,
                "follow": False,
                "fields": {
                    "title": "a.j_th_tit::text",
                    "body": "div.threadlist_abs::text",
                    "author": "a.frs-author-name::text",
                    "replies": "span.threadlist_rep_num::text",
                    "published": "span.is_show_create_time::text",
                },
            },
        },
    ),
    "weibo": (
        ("search",),
        "微博关键词（经 RSSHub）",
        {"url": "{rsshub}/weibo/keyword/{query}", "format": "feed"},
    ),
    "zhihu-topic": (
        ("search",),
        "知乎话题（经 RSSHub；queries 写话题 ID）",
        {"url": "{rsshub}/zhihu/topic/{query}", "format": "feed", "use_entities": False},
    ),
    "bilibili": (
        ("search",),
        "哔哩哔哩视频搜索（经 RSSHub）",
        {"url": "{rsshub}/bilibili/vsearch/{query}", "format": "feed"},
    ),
}

_MERGED = ("list", "fields")


def names() -> str:
    """The presets, for an error message."""
    return "、".join(f"{n}（{label}）" for n, (_, label, _) in PRESETS.items())


def problem(name: str, kind: str | None) -> str | None:
    """Why ``preset: name`` cannot be used on a source of type ``kind``, or None."""
    if name not in PRESETS:
        return f"未知的预设 '{name}'；可用的预设：{names()}"
    kinds = PRESETS[name][0]
    if kind is not None and kind not in kinds:
        return f"预设 {name} 只能用于 {'、'.join(kinds)} 类型的来源（此来源为 {kind}）"
    return None


def _merge(preset: dict, own: dict) -> dict:
    out = dict(preset)
    for key, value in own.items():
        if key in _MERGED and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def apply(data: Any) -> Any:
    """A source's raw keys with its preset's filled in under them (nothing to do without
    a usable preset: validation then says what is wrong)."""
    if not isinstance(data, dict) or not isinstance(data.get("preset"), str):
        return data
    name = data["preset"]
    if problem(name, data.get("type")):
        # The preset's own error is the one to show (at `preset:`), not a url it would fill.
        return (
            {"url": "http://preset.invalid/{query}", **data}
            if data.get("type") == "search"
            else data
        )
    filled = deepcopy(PRESETS[name][2])
    if isinstance(filled.get("url"), str):
        base = str(data.get("rsshub") or RSSHUB).rstrip("/")
        filled["url"] = filled["url"].replace("{rsshub}", base)
    return _merge(filled, data)
