"""Pages that show no text: what a crawler fetches when a site renders its posts with
JavaScript (加载中, 请开启 JavaScript), puts them behind a login (请先登录后查看) or a
bot check (安全验证), or when the selectors no longer find the post's body.

Such a page is fetched without error and stored like any other, but nothing in it can
be matched: a source whose pages are mostly like this is not seeing content, which
``storage.health`` reports as 看不到正文 instead of 正常.
"""

from __future__ import annotations

import re

# What such pages say instead of the post, in the words sites use. Only a short text
# counts: a real post that happens to mention 登录 or JavaScript is not a placeholder.
_PLACEHOLDER = re.compile(
    r"加载中|正在加载|载入中|loading"
    r"|(请|需要|须)?(开启|启用|打开|允许|支持)\s*javascript|javascript\s*(已被)?(禁用|关闭)"
    r"|enable\s+javascript|javascript\s+is\s+(disabled|required)"
    r"|(请先|请|需要|须)登[录陆]|登[录陆]后(查看|可见|浏览|才能)|没有权限|无权(查看|访问)|权限不足"
    r"|安全验证|人机验证|访问验证|滑动验证|验证码|just\s+a\s+moment|checking\s+your\s+browser",
    re.IGNORECASE,
)
SHORT = 120  # characters of text, spaces left out, below which a page can be a placeholder


def is_placeholder(text: str | None) -> bool:
    """A short text that says the page did not show its content (加载中, 请先登录…)."""
    body = re.sub(r"\s+", "", text or "")
    return len(body) <= SHORT and bool(_PLACEHOLDER.search(" ".join((text or "").split())))


def shows_no_text(title: str | None, text: str | None, *, title_is_content: bool = False) -> bool:
    """A fetched page with nothing to match: no text at all, or a placeholder. Where a
    title alone is a post (a feed entry, a row of a forum list), an empty text is
    normal and only a placeholder counts."""
    if is_placeholder(text):
        return True
    if (text or "").strip():
        return False
    return not title_is_content or not (title or "").strip()
