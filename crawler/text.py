"""HTML to clean text: feed entry HTML and whole-page main-text extraction."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "dd",
    "dt",
    "hr",
    "td",
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


# Most nodes one text extraction visits: a hostile page nesting 100,000 elements (or a
# selector matching every one of them) costs a bounded time, not minutes.
MAX_NODES = 200_000


class Budget:
    """Nodes left to visit, shared by the extractions of one selector."""

    def __init__(self, nodes: int = MAX_NODES):
        self.nodes = nodes


def element_text(el, budget: Budget | None = None) -> str:
    """Readable text of an lxml element, block elements on separate lines. Any depth of
    nesting works; stops (keeping what it has) when ``budget`` runs out. The element is
    never modified (lxml refuses to write back some text it parsed)."""
    budget = budget or Budget()
    start = budget.nodes
    try:
        return collapse("".join(_walk_recursive(el, budget)))  # the fast path
    except RecursionError:  # nested deeper than Python's stack: the same walk, iteratively
        budget.nodes = start
        return collapse("".join(_walk_iterative(el, budget)))


def _local(tag) -> str:
    return tag.lower().rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _walk_recursive(el, budget: Budget) -> list[str]:
    parts: list[str] = []

    def walk(node) -> None:
        if budget.nodes <= 0:
            return
        budget.nodes -= 1
        tag = _local(node.tag)
        tail = node.tail if node is not el else None  # the element's own tail is not its text
        if tag in _DROP or not isinstance(node.tag, str):
            if tail:
                parts.append(tail)
            return
        if tag in _BLOCK:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCK:
            parts.append("\n")
        if tail:
            parts.append(tail)

    walk(el)
    return parts


def _walk_iterative(el, budget: Budget) -> list[str]:
    parts: list[str] = []
    stack: list[tuple[object, bool]] = [(el, False)]
    while stack and budget.nodes > 0:
        node, closing = stack.pop()
        tag = _local(node.tag)
        tail = node.tail if node is not el else None
        if closing:
            if tag in _BLOCK:
                parts.append("\n")
            if tail:
                parts.append(tail)
            continue
        budget.nodes -= 1
        if tag in _DROP or not isinstance(node.tag, str):
            if tail:
                parts.append(tail)
            continue
        if tag in _BLOCK:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return parts


# Short lines that open the block of links after an article on Chinese news sites.
_TAIL_MARKERS = frozenset(
    {
        "热门推荐",
        "相关新闻",
        "相关阅读",
        "推荐阅读",
        "猜你喜欢",
        "热点新闻",
        "延伸阅读",
        "精彩推荐",
        "热门评论",
        "最新评论",
        "相关推荐",
        "为你推荐",
        "推荐",
        "热门文章",
        "今日推荐",
        "24小时热点",
        "更多精彩",
        "热门新闻",
        "相关文章",
        "大家都在看",
        "热读",
        "排行榜",
        "新闻排行",
    }
)


_PROMO = re.compile(r"【点击|点击(投票|进入|查看|下载|关注)")


def trim_boilerplate(text: str, title: str = "") -> str:
    """Cut what extractors often leave around an article: a repeated title on the first
    line, and the block of recommended links that follows the text."""
    lines = text.split("\n")
    if title and lines and lines[0].strip() == title.strip():
        lines = lines[1:]
    # Promotion lines above the article ("...【点击投票】").
    while lines and len(lines) > 3 and _PROMO.search(lines[0]):
        lines = lines[1:]
    half = min(len("".join(lines)) // 2, 150)
    seen = 0
    for i, line in enumerate(lines):
        bare = line.strip().lstrip("-•·* ").strip()
        if seen >= half and bare in _TAIL_MARKERS:
            lines = lines[:i]
            break
        seen += len(line)
    return "\n".join(lines).strip()


_INLINE_TEXT = {
    "p",
    "span",
    "font",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "section",
    "blockquote",
    "center",
    "pre",
}
_NOT_CONTENT = (
    "script",
    "style",
    "noscript",
    "nav",
    "footer",
    "select",
    "button",
    "iframe",
    "textarea",
)


def densest_block(page_html: str) -> str:
    """The element holding the most paragraph text of its own (its direct text and its
    direct paragraph-like children, links not counted): a fallback for pages the main
    extractor gives up on (tables-based government and school sites)."""
    try:
        root = lxml.html.fromstring(page_html)
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.xpath("|".join(f"//{t}" for t in _NOT_CONTENT)):
        try:
            bad.drop_tree()
        except ValueError:  # its tail holds a control character lxml will not write back
            bad.tail = None
            bad.drop_tree()

    def link_len(el) -> int:
        return sum(len((a.text_content() or "").strip()) for a in el.iter("a"))

    best, best_score = None, 0
    # xpath, not iter(): on some broken pages part of the tree is only reachable that way.
    for el in root.xpath("//div|//td|//article|//section|//main"):
        own = len((el.text or "").strip())
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if child.tag in _INLINE_TEXT:
                own += len((child.text_content() or "").strip()) - link_len(child)
            own += len((child.tail or "").strip())
        if own > best_score:
            best, best_score = el, own
    return element_text(best) if best is not None else ""


def extract_main(page_html: str, url: str | None = None) -> dict:
    """Title, main text, author and date of a page with no body selector, or empty
    values; ``kind`` says "list" for a list page (its text is then empty). The choice
    between extractors is in ``crawler.article``."""
    from crawler.article import extract_article  # it builds on this module

    return extract_article(page_html, url)


def list_page(auto: dict) -> str:
    """What the office is told about a list page given as an article address."""
    return (
        f"这是列表页（{auto.get('links', 0)} 个标题链接，没有正文），不是文章页："
        "请在该来源的配置中用 list 写明条目链接（item），由列表进入每篇文章"
    )
