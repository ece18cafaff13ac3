"""Main text of Chinese news and portal pages by text and punctuation density.

The method published by 洪鸿辉 et al. ("基于文本及符号密度的网页正文提取方法", 2019), our own
implementation and our own variant of its score. For every element of the page body:

- text density ``TD = (T - LT) / max(1, TG - LTG)``: characters of text that is not link
  text, per tag that is not a link (T text, LT link text, TG tags, LTG link tags);
- punctuation ``Sb``: full-width and ASCII sentence punctuation in the text that is not
  link text. Prose has it, menus, link lists and bylines have little;
- paragraphs ``P``: ``<p>`` and ``<br>`` elements below it.

``score = TD * ln(1 + Sb) * log10(P + 2) * (1 - LT / T)``; the element with the highest
score holds the article. (The paper divides text by symbols and takes a logarithm of the
density's standard deviation; a constant factor per page does not change the choice, and
rewarding punctuation directly scores a link list with no punctuation at zero.) Blocks of
links inside the chosen element (related stories, tags, share bars) are left out.

The same counts tell a list page (many links with title-length text and little prose
between them) from an article: ``page_profile`` gives them to ``crawler.article``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from crawler.text import element_text

_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "textarea",
    "select",
    "button",
    "nav",
    "footer",
    "header",
    "aside",
    "svg",
    "object",
    "embed",
)
_CANDIDATE = frozenset({"div", "article", "section", "main", "td", "body", "ul", "table", "tbody"})
# Containers that can be a block of links inside an article (a paragraph with three
# linked names stays).
_BLOCKS = frozenset({"div", "ul", "ol", "dl", "table", "tbody", "section", "aside", "span"})
_PUNCT = re.compile(r"[，。！？；：、“”‘’（）《》…,.!?;:]")
_SPACE = re.compile(r"\s+")
_CLOSE_DOC = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)


@dataclass
class _Stats:
    text: int = 0  # characters of text, spaces left out
    link_text: int = 0
    tags: int = 0
    link_tags: int = 0
    punct: int = 0  # punctuation outside links
    paras: int = 0
    title_links: int = 0  # links whose text is as long as a headline (6+ characters)


@dataclass
class PageProfile:
    """What ``crawler.article`` needs from one pass over the page."""

    text: str  # the chosen element's text, link blocks left out
    score: float
    body: _Stats  # counts for the whole body
    best: _Stats  # counts for the chosen element
    captions: frozenset[str]  # the texts of headline-length links, spaces left out
    rows: int = 0  # the chosen element sits in one of this many alike rows (a thread list)


def _n(s: str | None) -> int:
    return len(_SPACE.sub("", s)) if s else 0


def _punct(s: str | None) -> int:
    return len(_PUNCT.findall(s)) if s else 0


def parse(page_html: str):
    """The page as an lxml tree with scripts, forms, navigation and hidden parts removed;
    None when it cannot be parsed."""
    # A stray </html> or </body> (an included header file) ends the document for libxml2.
    page_html = _CLOSE_DOC.sub(" ", page_html)
    try:
        root = lxml.html.fromstring(page_html)
    except (etree.ParserError, ValueError):
        return None
    return clean(root)


def clean(root):
    """``root`` with scripts, forms, navigation, comments and hidden parts removed."""
    bad = root.xpath("|".join(f"//{t}" for t in _DROP) + "|//comment()")
    bad += [el for el in root.xpath("//*[@style]") if _HIDDEN.search(el.get("style") or "")]
    for el in bad:
        _drop(el)
    return root


def _drop(el) -> None:
    if el.getparent() is None:  # the root, or already dropped with an ancestor
        return
    try:
        el.drop_tree()
    except (ValueError, TypeError):  # a tail lxml will not write back (a control character)
        el.tail = None
        try:
            el.drop_tree()
        except (ValueError, TypeError):
            pass


def _count(root) -> dict:
    """Counts for every element below ``root`` (itself included), bottom-up, one pass."""
    stats: dict = {}
    order = [el for el in root.iter() if isinstance(el.tag, str)]
    for el in reversed(order):
        s = stats.setdefault(el, _Stats())
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        own = _n(el.text)
        s.text += own
        s.tags += 1
        if tag == "a":
            s.link_tags += 1
            s.link_text = s.text  # everything below a link is link text
            s.punct = 0
            if s.text >= 6:
                s.title_links += 1
        else:
            s.punct += _punct(el.text)
        if tag in ("p", "br"):
            s.paras += 1
        parent = el.getparent()
        if parent is None:
            continue
        p = stats.setdefault(parent, _Stats())
        tail = _n(el.tail)
        p.text += s.text + tail
        p.link_text += s.link_text
        p.tags += s.tags
        p.link_tags += s.link_tags
        p.punct += s.punct + _punct(el.tail)
        p.paras += s.paras
        p.title_links += s.title_links
    return stats


def _score(s: _Stats) -> float:
    plain = s.text - s.link_text
    if plain <= 0 or s.text == 0:
        return 0.0
    density = plain / max(1, s.tags - s.link_tags)
    return density * math.log1p(s.punct) * math.log10(s.paras + 2) * (plain / s.text)


def _is_link_block(s: _Stats) -> bool:
    """A list of links inside the article (related stories, tags, a share bar)."""
    return s.link_tags >= 3 and s.link_text >= 0.6 * s.text


def page_profile(page_html: str, root=None) -> PageProfile | None:
    """The densest element's text and the counts behind the choice; None for an
    unparsable page. ``root``: the page already parsed (it is changed)."""
    root = parse(page_html) if root is None else clean(root)
    if root is None:
        return None
    body = root.find(".//body")
    body = body if body is not None else root
    stats = _count(body)
    captions = frozenset(
        c for a in body.iter("a") if len(c := _SPACE.sub("", a.text_content() or "")) >= 6
    )
    best, best_score = None, 0.0
    for el, s in stats.items():
        if el.tag.lower() not in _CANDIDATE:
            continue
        sc = _score(s)
        if sc > best_score:
            best, best_score = el, sc
    if best is None:
        return PageProfile("", 0.0, stats.get(body, _Stats()), _Stats(), captions)
    rows = _repeated_rows(best, body)
    for el in list(best.iter()):
        if el is best or not isinstance(el.tag, str):
            continue
        s = stats.get(el)
        if s is not None and el.tag.lower() in _BLOCKS and _is_link_block(s):
            _drop(el)
    return PageProfile(element_text(best), best_score, stats[body], stats[best], captions, rows)


def _repeated_rows(el, body, levels: int = 6) -> int:
    """The most siblings alike (same tag and class) of ``el`` or of one of its nearest
    ancestors: a block of prose that is one row of fifty is an excerpt in a list."""
    most = 0
    for _ in range(levels):
        parent = el.getparent()
        if parent is None or el is body:
            break
        key = (el.tag, el.get("class"))
        most = max(most, sum(1 for sib in parent if (sib.tag, sib.get("class")) == key))
        el = parent
    return most
