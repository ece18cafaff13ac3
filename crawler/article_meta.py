"""Title, author and publish time of a Chinese article page: the right value or none.

Every value comes from a place pages put it on purpose (a meta tag, the headline, a
byline such as "记者 张三" or "作者：李四", a "发布时间" line next to the headline) and is
checked before it is believed. An author must read as a name: not a list ("Discuz Team;
Comsenz UI Team"), not an e-mail or a web address, not the site's own name ("网易"), not
a label ("作者"), not a verb caught after 记者 ("记者表示"). A time must be a real date
between 1995 and tomorrow. What fails the check is left empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import lxml.html
from lxml import etree

from crawler.text import collapse, element_text

_SPACE = re.compile(r"\s+")
_CJK_NAME = r"[\u4e00-\u9fff·]{2,4}"
# After these labels comes the writer's name (作者︱春春, 文/张三, 采写：南都记者 林子沛).
_LABELLED = re.compile(
    r"(?:作者|撰文|撰稿|文字|采写|记者|文|图文)\s*[:：︱|丨/]\s*(?:[\u4e00-\u9fff]{0,8}记者\s*)?"
    rf"({_CJK_NAME}(?:[ 、，,]+{_CJK_NAME})*)"
    r"(?=$|[\s）)】\]、，,。；;:：/|]|时间|来源|发布|编辑|日期)(?!\s*摄)"
)
# 记者 followed by names and then a boundary: （记者 裴剑飞）, 澎湃新闻记者 段彦超 廖艳.
_REPORTER = re.compile(
    r"(?:记者|评论员|通讯员)\s*([\u4e00-\u9fff·]{2,3}(?:[ 、，,]+[\u4e00-\u9fff·]{2,3})*)"
    r"(?=$|[\s）)】\]、，,。；;:：/|]|报道)(?!\s*摄)"
)
# Words caught where a name should be: what reporters do, roles, and fillers.
_NOT_NAMES = frozenset(
    [
        "表示",
        "介绍",
        "了解",
        "获悉",
        "发现",
        "看到",
        "注意",
        "采访",
        "调查",
        "询问",
        "报道",
        "整合",
        "摄影",
        "编辑",
        "通讯员",
        "实习生",
        "见习",
        "记者",
        "作者",
        "责任编辑",
        "编辑部",
        "评论员",
        "来源",
        "本报",
        "本台",
        "本网",
        "综合",
        "责任",
        "责编",
        "专稿",
        "独家",
        "今日",
        "近日",
        "昨日",
        "日前",
        "从中",
        "在现场",
        "佚名",
        "未知",
        "匿名",
        "管理员",
        "小编",
        "网友",
        "楼主",
        "供图",
        "视频",
        "图片",
        "图文",
        "原创",
        "转载",
    ]
)
_BAD_AUTHOR = re.compile(
    r"[;；@<>{}=]|https?:|www\.|\.com|\b(team|admin|administrator|editor|webmaster|email|name|"
    r"author|null|none|unknown)\b",
    re.IGNORECASE,
)
# Where a meta tag names the source, not a person: 环球网, 扬子晚报, 新华社, 腾讯新闻客户端.
_ORGANISATION = re.compile(r"(网|报|社|台|站|号|新闻|频道|客户端|中心|公司|集团|杂志|周刊)$")
_LATIN_NAME = re.compile(r"^[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}$")

_META_TIME = (
    "article:published_time",
    "og:release_date",
    "publishdate",
    "pubdate",
    "publish_date",
    "publishtime",
    "ptime",
    "firstpublishedtime",
    "dc.date.issued",
    "dc.date",
    "date",
    "article:create_at",
    "weibo:article:create_at",
)
_JSON_TIME = re.compile(
    r"[\"'](?:datePublished|pubDate|publishTime|publish_time|pubtime|ptime)[\"']\s*:\s*[\"']([^\"']{8,40})[\"']"
)
_DATETIME = re.compile(
    r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT\-]*(\d{1,2})\s*[:：时]\s*(\d{2})(?:\s*[:：分]\s*(\d{2}))?)?"
)
_CLOSE_DOC = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s*(?:_|\||｜|--|—|\s-\s|-(?=[^-]*$))\s*")


def _norm(s: str | None) -> str:
    return _SPACE.sub("", s or "")


def _metas(tree) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        val = (m.get("content") or "").strip()
        if key and val and key not in out:
            out[key] = val
    return out


# -- time ---------------------------------------------------------------------
def clean_date(text: str | None, now: datetime | None = None) -> str | None:
    """``text``'s first date (and time) as "YYYY-MM-DD HH:MM:SS", or None when it holds no
    plausible one (before 1995, after tomorrow, 2月30日)."""
    if not text:
        return None
    m = _DATETIME.search(str(text))
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    h, mi, s = (int(g) if g else 0 for g in m.groups()[3:])
    try:
        when = datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    if y < 1995 or when > (now or datetime.now()) + timedelta(days=1):
        return None
    zone = re.match(r"\s*(Z|[+-]\d{2}:?\d{2})", str(text)[m.end() :]) if m.group(4) else None
    suffix = zone.group(1).replace("Z", "+00:00") if zone else ""
    if m.group(4):
        return when.strftime("%Y-%m-%d %H:%M:%S") + suffix
    return when.strftime("%Y-%m-%d")


def _page_time(tree, metas: dict, raw: str, lines: list[str], title: str) -> str | None:
    for key in _META_TIME:
        if (got := clean_date(metas.get(key))) is not None:
            return got
    for el in tree.iter("time"):
        if (got := clean_date(el.get("datetime") or el.text_content())) is not None:
            return got
    m = _JSON_TIME.search(raw)
    if m and (got := clean_date(m.group(1))) is not None:
        return got
    # A date line near the headline: the lines after it, else the page's short lines.
    start = 0
    t = _norm(title)
    for i, line in enumerate(lines):
        if t and _norm(line) and (_norm(line) in t or t in _norm(line)):
            start = i
            break
    for line in lines[start : start + 8]:
        if len(_norm(line)) <= 80 and (got := clean_date(line)) is not None:
            return got
    return None


# -- author -------------------------------------------------------------------
def _valid_name(name: str, site_words: str) -> str | None:
    name = name.strip(" ：:|/()（）[]【】")
    if not name or _BAD_AUTHOR.search(name) or len(name) > 30:
        return None
    parts = [p for p in re.split(r"[ 、，,]+", name) if p and p not in _NOT_NAMES]
    if not parts:
        return None
    if all(re.fullmatch(r"[\u4e00-\u9fff·]{2,8}", p) for p in parts):
        if any(p in site_words for p in parts):  # the site's own name: 网易, 新华网
            return None
        return " ".join(parts)
    return name if _LATIN_NAME.match(name) else None


def _page_author(metas: dict, lines: list[str], site_words: str) -> str | None:
    # Bylines first: the lines at the top and the bottom of the page text.
    for line in lines:
        if len(line) > 200:
            line = line[:200]
        for rx in (_LABELLED, _REPORTER):
            m = rx.search(line)
            if m and (got := _valid_name(m.group(1), site_words)):
                return got
    for key in ("author", "article:author", "byline", "dc.creator"):
        got = _valid_name(metas.get(key) or "", site_words)
        if got and not _ORGANISATION.search(got):
            return got
    return None


# -- title --------------------------------------------------------------------
def _page_title(tree, fallback: str) -> tuple[str, str]:
    """(headline, the <title> text); the headline is an <h1>/<h2> the <title> starts with,
    else the <title> without the site's name."""
    full = collapse(tree.findtext(".//title") or "")
    nfull = _norm(full)
    best = ""
    for el in tree.xpath("//h1|//h2|//*[contains(@class,'title')]"):
        t = collapse(el.text_content() or "").replace("\n", " ")
        n = _norm(t)
        # A copy of the whole <title> (a share box) is not the headline: it has the suffix.
        if 4 <= len(n) < len(nfull) and nfull.startswith(n) and len(t) > len(best):
            best = t
    if best:
        return best, full
    parts = [p for p in _TITLE_SPLIT.split(full) if p]
    if parts and len(_norm(parts[0])) >= 4:
        return parts[0], full
    return (full or fallback), full


_DATELINE = re.compile(r"^(?:发布时间|发布日期|发表时间|时间|日期|来源)\s*[:：]")


def _headline_above_dateline(lines: list[str]) -> str | None:
    """The line above the first "发布时间：..." line, when it reads as a headline."""
    for i, line in enumerate(lines[1:], 1):
        if _DATELINE.match(line) and _DATETIME.search(line):
            above = lines[i - 1]
            if 8 <= len(_norm(above)) <= 80 and not re.search(r"[，。；]", above):
                return above
            return None
    return None


def parse(page_html: str):
    """The page as an lxml tree (None when it cannot be parsed); script text emptied."""
    try:
        tree = lxml.html.fromstring(_CLOSE_DOC.sub(" ", page_html))
    except (etree.ParserError, ValueError):
        return None
    for el in tree.xpath("//script|//style|//noscript|//template"):
        el.text = None  # their text is not the page's; the tails stay
    return tree


@dataclass
class Facts:
    """What one reading of the page found: headline, time, and where to look for a byline."""

    title: str
    date: str | None
    metas: dict[str, str]
    site_words: str
    lines: list[str]  # the page's first and last lines of text


def read(tree, page_html: str, fallback_title: str = "") -> Facts:
    """Headline and publish time of a parsed page (``parse``), read before anything is
    removed from the tree."""
    title, full = _page_title(tree, fallback_title)
    site_words = full[len(title) :] if full.startswith(title) else full.replace(title, "")
    metas = _metas(tree)
    site_words += metas.get("og:site_name", "")
    body = tree.find(".//body")
    lines = element_text(body if body is not None else tree).split("\n")
    if len(_norm(title)) <= 6:  # a section's name (新闻动态), not a headline
        title = _headline_above_dateline(lines) or title
    date = _page_time(tree, metas, page_html, lines, title)
    return Facts(title, date, metas, site_words, lines[:80] + lines[-40:])


def author_of(facts: Facts, article_text: str = "") -> str | None:
    """The writer: a byline in the first or last lines of ``article_text``, else around
    the page, else a meta tag that reads as a person's name."""
    own = [x.strip() for x in article_text.split("\n") if x.strip()]
    return _page_author(facts.metas, own[:5] + own[-5:] + facts.lines, facts.site_words)


def extract(page_html: str, fallback_title: str = "", article_text: str = "") -> dict:
    """{"title", "author", "date"}: each the right value or empty."""
    tree = parse(page_html)
    if tree is None:
        return {"title": fallback_title, "author": None, "date": None}
    facts = read(tree, page_html, fallback_title)
    return {"title": facts.title, "author": author_of(facts, article_text), "date": facts.date}


# Lines around an article that are page furniture, not text.
_FURNITURE = re.compile(
    r"^(?:字号|打印|分享到?[:：]?|转播到腾讯微博|\+1|【纠错】|纠错|图集|关闭窗口|返回顶部|"
    r"责任编辑[:：]?|扫一扫.{0,12}|[大中小]{1,3}|默认|超大)$"
)


_BACK_HOME = re.compile(r"\s*返回\S{0,10}首页\s*>*\s*$")


def trim_lines(text: str) -> str:
    """Drop furniture lines (字号, 打印, 分享到, a lone 【纠错】 or +1) at the start and end."""
    lines = text.split("\n")
    while lines and _FURNITURE.match(lines[0].strip()):
        lines.pop(0)
    # A furniture line near the end followed only by short ones: "图集 / +1 / 【纠错】 /
    # 责任编辑： / 焦鹏" under a 新华网 article.
    for i in range(max(0, len(lines) - 6), len(lines)):
        if _FURNITURE.match(lines[i].strip()) and all(len(x.strip()) <= 12 for x in lines[i:]):
            lines = lines[:i]
            break
    if lines:  # "...仍将持续。返回腾讯网首页>>"
        lines[-1] = _BACK_HOME.sub("", lines[-1])
    return "\n".join(lines)
