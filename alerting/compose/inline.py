"""CSS moved into ``style`` attributes, for webmail clients that drop ``<style>``.

Many webmail clients (and the mail apps of some phones) remove the ``<style>`` element
of a message or ignore it: a mail styled only there arrives as bare text, its urgent
band grey. So every rule of the template's stylesheet is also written on each element
it selects, before the message is stored. The ``<style>`` element stays, for its
``@media`` rules (the phone layout), which cannot be inlined.

Our templates use simple selectors (element, class, descendant); rules are applied in
order of specificity, then of appearance, and what an element already has in its own
``style`` wins, as in a browser.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import lxml.html
from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from lxml.etree import ParserError

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}@]+)\{([^{}]*)\}")
_AT_BLOCK = re.compile(r"@[^{]+\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", re.DOTALL)


def _specificity(selector: str) -> tuple[int, int, int]:
    ids = selector.count("#")
    classes = len(re.findall(r"\.[\w-]+|\[[^\]]*\]|:(?!:)[\w-]+", selector))
    elements = len(re.findall(r"(?:^|[\s>+~])([a-zA-Z][\w-]*)", selector))
    return ids, classes, elements


def _declarations(block: str) -> list[tuple[str, str]]:
    out = []
    for part in block.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip() and value.strip():
            out.append((name.strip().lower(), value.strip()))
    return out


def _merge(*lists: list[tuple[str, str]]) -> str:
    merged: dict[str, str] = {}
    for decls in lists:
        for name, value in decls:
            merged.pop(name, None)  # the later one wins, and keeps its place last
            merged[name] = value
    return "; ".join(f"{k}: {v}" for k, v in merged.items())


class _StartTags(HTMLParser):
    """Where each start tag stands in the text, in document order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.lines = [0]
        for line in text.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.tags: list[tuple[str, int, str]] = []  # (tag, offset, raw start tag)

    def handle_starttag(self, tag, attrs):
        line, col = self.getpos()
        self.tags.append((tag, self.lines[line - 1] + col, self.get_starttag_text() or ""))

    handle_startendtag = handle_starttag


_STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)


def _with_style(raw: str, style: str) -> str:
    value = f' style="{escape(style, quote=True)}"'
    if _STYLE_ATTR.search(raw):
        return _STYLE_ATTR.sub(lambda _m: value, raw, count=1)
    end = len(raw) - (2 if raw.endswith("/>") else 1)
    return raw[:end].rstrip() + value + raw[end:]


def inline_css(html: str) -> str:
    """``html`` with each rule of its ``<style>`` elements (outside ``@media``) also
    written in the ``style`` attribute of every element it selects. Only start tags
    change: text and entities stay exactly as the template escaped them."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return html
    rules: list[tuple[tuple[int, int, int], int, str, list[tuple[str, str]]]] = []
    for style in doc.iter("style"):
        css = _AT_BLOCK.sub("", _COMMENT.sub("", style.text or ""))
        for m in _RULE.finditer(css):
            decls = _declarations(m.group(2))
            for sel in m.group(1).split(","):
                sel = sel.strip()
                if sel and decls:
                    rules.append((_specificity(sel), len(rules), sel, decls))
    if not rules:
        return html
    applied: dict = {}
    for _spec, _order, sel, decls in sorted(rules, key=lambda r: (r[0], r[1])):
        try:
            matches = CSSSelector(sel)(doc)
        except SelectorError:  # a selector lxml cannot read stays in <style> only
            matches = []
        for el in matches:
            applied.setdefault(el, []).append(decls)
    elements = [el for el in doc.iter() if isinstance(el.tag, str)]
    parser = _StartTags(html)
    parser.feed(html)
    parser.close()
    if [t for t, _o, _r in parser.tags] != [el.tag for el in elements]:
        return html  # the parsers disagree about the document: leave it as it is
    out, pos = [], 0
    for (_tag, offset, raw), el in zip(parser.tags, elements, strict=True):
        if el not in applied:
            continue
        own = _declarations(el.get("style", ""))
        out += [html[pos:offset], _with_style(raw, _merge(*applied[el], own))]
        pos = offset + len(raw)
    out.append(html[pos:])
    return "".join(out)
