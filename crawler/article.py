"""The main text of a page with no body selector: the better of two extractors, and
whether the page is an article at all.

Two extractors read every page: trafilatura (general, looks at markup and class names)
and ``crawler.density`` (text and punctuation density, made for Chinese portal pages).
The rule that picks one, measured on the shared corpus (docs/extraction.md):

1. The density text has under 50 characters: trafilatura's.
2. They found the same article (at least 60 % of the density text's characters are in
   lines trafilatura also has): the density text, which leaves out the header and byline
   lines, the share bar and the related links that trafilatura keeps on many portal
   layouts, unless trafilatura has prose the density text lacks (lines of 20+ characters
   with a comma or full stop, together over half the density text's length): then
   trafilatura's.
3. They disagree: trafilatura's, unless it has under half the density text's prose.

A page is a **list**, not an article, when it has 30 or more headline-length links, no
block of 300 characters of prose, and either its densest block is one of 10 or more
alike rows (a thread's excerpt on a forum board, a result on a search page) or it has
no block of even 50 characters of prose and most of what trafilatura calls its text is
the captions of its own links (a board of thread titles, a news index).
"""

from __future__ import annotations

import re

from crawler import article_meta, wechat
from crawler.density import PageProfile, page_profile
from crawler.text import collapse, densest_block, trim_boilerplate

_SPACE = re.compile(r"[\s|]+")  # table cell bars too: trafilatura writes them
_SENTENCE = re.compile(r"[，。！？；]")

LIST_MIN_LINKS = 30
LIST_MAX_PROSE = 300
LIST_ROWS = 10
LIST_NO_PROSE = 50
SAME_ARTICLE = 0.6
EXTRA_PROSE = 0.5
_SUBSTRING_LINES = 400


def _norm(s: str) -> str:
    return _SPACE.sub("", s)


def _prose(line: str) -> int:
    """Characters of a line that reads as a sentence: 20+ characters with a comma, a
    full stop or the like (a headline, a caption or a phone number has none)."""
    n = _norm(line)
    return len(n) if len(n) >= 20 and _SENTENCE.search(n) else 0


def by_trafilatura(page_html: str, url: str | None) -> dict:
    """trafilatura's title, text, author and date, with the dense-block fallback for
    pages it gives up on: automatic extraction as it was before the density extractor."""
    import trafilatura

    out = {"title": "", "text": "", "author": None, "date": None}
    try:
        doc = trafilatura.bare_extraction(
            page_html,
            url=url,
            include_comments=False,
            include_tables=True,
            favor_precision=False,
            with_metadata=True,
            deduplicate=False,
        )
    except Exception:
        doc = None
    if doc is not None:
        get = doc.get if isinstance(doc, dict) else (lambda k, d=None: getattr(doc, k, d))
        out["title"] = (get("title") or "").strip()
        out["text"] = trim_boilerplate(collapse(get("text") or ""), out["title"])
        out["author"] = get("author") or None
        out["date"] = get("date") or None
    if len(_norm(out["text"])) < 200:
        dense = densest_block(page_html)
        if len(dense) > len(out["text"]):
            out["text"] = trim_boilerplate(dense, out["title"])
    return out


def choose(density_text: str, traf_text: str) -> str:
    """Which text to keep: "density" or "trafilatura" (the rule in the module docstring)."""
    d_lines = [_norm(x) for x in density_text.split("\n") if _norm(x)]
    d_len = sum(map(len, d_lines))
    if d_len < 50:
        return "trafilatura"
    t_lines = [_norm(x) for x in traf_text.split("\n") if _norm(x)]
    t_set = set(t_lines)
    t_all = "".join(t_lines)
    # Substring tests only for the first lines: a hostile page's thousands cost no more.
    shared = sum(
        len(x)
        for i, x in enumerate(d_lines)
        if x in t_set or (i < _SUBSTRING_LINES and len(x) >= 10 and x in t_all)
    )
    if shared >= SAME_ARTICLE * d_len:
        d_all = "".join(d_lines)
        extra = sum(_prose(x) for x in t_lines[:_SUBSTRING_LINES] if x not in d_all)
        return "trafilatura" if extra > EXTRA_PROSE * d_len else "density"
    d_prose = sum(_prose(x) for x in d_lines)
    t_prose = sum(_prose(x) for x in t_lines)
    return "trafilatura" if t_prose >= 0.5 * d_prose else "density"


def is_list_page(profile: PageProfile, text: str) -> bool:
    """Many headline links and either no prose at all (the text then mostly the links'
    captions) or prose only in excerpts, one per row of a list."""
    if profile.body.title_links < LIST_MIN_LINKS:
        return False
    prose = profile.best.text - profile.best.link_text
    if prose >= LIST_MAX_PROSE:
        return False
    if profile.rows >= LIST_ROWS:
        return True
    if prose >= LIST_NO_PROSE:
        return False
    lines = [_norm(x) for x in text.split("\n") if _norm(x)][:_SUBSTRING_LINES]
    total = sum(map(len, lines))
    joined = "\x00".join(profile.captions)
    linked = sum(len(x) for x in lines if x in profile.captions or x in joined)
    return total == 0 or linked >= 0.5 * total


def extract_article(page_html: str, url: str | None = None) -> dict:
    """Title, text, author, date of a page, plus ``kind`` ("article", "list" or
    "wechat") and ``method`` (which extractor's text was kept)."""
    if wechat.is_wechat(page_html, url):
        out = wechat.extract(page_html)
        if out["text"]:
            return out
    tree = article_meta.parse(page_html)
    traf = by_trafilatura(page_html, url)
    facts = article_meta.read(tree, page_html, traf["title"]) if tree is not None else None
    profile = page_profile(page_html, tree) if tree is not None else None  # changes tree
    title = (facts.title if facts else "") or traf["title"]
    if profile is not None and is_list_page(profile, traf["text"]):
        return {
            "title": title,
            "text": "",
            "author": None,
            "date": None,
            "kind": "list",
            "method": "list",
            "links": profile.body.title_links,
        }
    method = choose(profile.text if profile else "", traf["text"])
    text = profile.text if method == "density" and profile else traf["text"]
    return {
        "title": title,
        "text": article_meta.trim_lines(trim_boilerplate(collapse(text), title)),
        "author": article_meta.author_of(facts, text) if facts else None,
        "date": (facts.date if facts else None) or article_meta.clean_date(traf["date"]),
        "kind": "article",
        "method": method,
    }
