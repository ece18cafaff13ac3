"""Field selectors as the office writes them in YAML: CSS (with ``::text`` and
``::attr(name)``) or XPath (starting with ``/``, ``./`` or ``(``)."""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from crawler.text import Budget, collapse, element_text

_XPATH_START = ("/", "./", "(", "..")


def is_xpath(expr: str) -> bool:
    return expr.lstrip().startswith(_XPATH_START)


def select(node, expr: str):
    """A parsel SelectorList for ``expr`` applied to ``node`` (a parsel Selector)."""
    return node.xpath(expr) if is_xpath(expr) else node.css(expr)


@lru_cache(maxsize=512)
def compiled(expr: str) -> etree.XPath:
    """The selector as a compiled XPath (CSS translated the way parsel does it)."""
    if is_xpath(expr):
        return etree.XPath(expr, regexp=False, smart_strings=False)
    from parsel.csstranslator import css2xpath

    return etree.XPath(css2xpath(expr), regexp=False, smart_strings=False)


def _root(node):
    return getattr(node, "root", node)


MAX_MATCHES = 5_000  # matches of one selector read (a thread page has tens of posts)


def texts(node, expr: str, limit: int = MAX_MATCHES) -> list[str]:
    """Strings the selector yields: text and attribute values as they are, elements as
    their readable text (scripts and styles dropped, blocks on separate lines).
    ``node`` is a parsel Selector/response or an lxml element. At most ``limit`` values,
    and a bounded number of nodes read in all (``crawler.text.MAX_NODES``)."""
    root = _root(getattr(node, "selector", node))
    found = compiled(expr)(root)
    if not isinstance(found, list):
        found = [found]
    out: list[str] = []
    budget = Budget()
    for item in found:
        if len(out) >= limit or budget.nodes <= 0:
            break
        if isinstance(item, str):
            value = collapse(item)
        elif isinstance(item, etree._Element):
            value = element_text(item, budget)
        else:
            value = collapse(str(item))
        if value:
            out.append(value)
    return out


def first(node, expr: str | None) -> str | None:
    if not expr:
        return None
    found = texts(node, expr, limit=1)
    return found[0] if found else None


def joined(node, expr: str | None, sep: str = "\n") -> str | None:
    if not expr:
        return None
    found = texts(node, expr)
    return sep.join(found) if found else None


_NUM = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|千|k|亿)?", re.IGNORECASE)
_MULT = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}


def count(text: str | None) -> int | None:
    """'1171', '回复 22', '1.2万', '3k' → an integer, or None."""
    if not text:
        return None
    m = _NUM.search(text.replace(",", ""))
    if not m:
        return None
    return int(float(m.group(1)) * _MULT.get((m.group(2) or "").lower(), 1))
