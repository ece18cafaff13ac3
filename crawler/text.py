"""HTML to clean text: feed entry HTML and whole-page main-text extraction."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "section", "article", "header", "footer", "dd", "dt", "hr", "td",
}
_DROP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head"}
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


def collapse(text: str) -> str:
    """Tidy whitespace: runs of spaces collapsed, one paragraph per line, no blank lines."""
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(fragment: str | None) -> str:
    """Text of an HTML fragment (a feed entry, a selected element): tags removed,
    scripts and styles dropped, blocks on their own lines, entities resolved."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return collapse(html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return collapse(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))
    return element_text(root)


def element_text(el) -> str:
    """Readable text of an lxml element, block elements on separate lines."""
    parts: list[str] = []

    def walk(node):
        tag = node.tag if isinstance(node.tag, str) else ""
        tag = tag.lower().rsplit("}", 1)[-1]
        if tag in _DROP or not isinstance(node.tag, str):
            if node.tail:
                parts.append(node.tail)
            return
        if tag in _BLOCK:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCK:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    tail = el.tail
    el.tail = None
    try:
        walk(el)
    finally:
        el.tail = tail
    return collapse("".join(parts))


def extract_main(page_html: str, url: str | None = None) -> dict:
    """Title, main text, author and date of an article page (trafilatura), or empty
    values. Used when a source gives no body selector."""
    import trafilatura

    out = {"title": "", "text": "", "author": None, "date": None}
    try:
        doc = trafilatura.bare_extraction(
            page_html, url=url, include_comments=False, include_tables=True,
            favor_precision=False, with_metadata=True, deduplicate=False,
        )
    except Exception:  # trafilatura raises assorted errors on odd markup
        doc = None
    if doc is not None:
        get = doc.get if isinstance(doc, dict) else (lambda k, d=None: getattr(doc, k, d))
        out["title"] = (get("title") or "").strip()
        out["text"] = collapse(get("text") or "")
        out["author"] = get("author") or None
        out["date"] = get("date") or None
    if not out["title"]:
        try:
            tree = lxml.html.fromstring(page_html)
            t = tree.findtext(".//title")
            out["title"] = collapse(t or "")
        except (etree.ParserError, ValueError):
            pass
    return out
