"""WeChat official-account articles (``mp.weixin.qq.com/s/...``) read from their HTML.

The article is in the page as sent: the body in ``#js_content`` (styled
``visibility: hidden`` until the page's scripts run, which a crawler does not need), the
headline in ``#activity-name``, the account's name in ``#js_name``; the publish time is
only in a script variable (``var ct = "1700000000"``, ``create_time``) that the scripts
write into the page later. An article taken down shows a notice instead
(该内容已被发布者删除, 此内容因违规无法查看): that notice becomes the text, so the office
sees why there is nothing to read.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from crawler.text import collapse, element_text

_MARKUP = re.compile(r"id=[\"']js_content[\"']|rich_media_content|var\s+ct\s*=")
_EPOCH = re.compile(
    r"\b(?:var\s+ct|create_time|ori_create_time|publish_time)\s*[=:]\s*"
    r"(?:htmlDecode\()?[\"']?(\d{10})\b"
)
_DATE_VAR = re.compile(
    r"\b(?:publish_time|createTime)\s*[=:]\s*[\"'](20\d\d-\d\d-\d\d(?: \d\d:\d\d)?)"
)
_STR_VAR = r"\b{name}\s*[=:]\s*(?:htmlDecode\()?\s*([\"'])(.*?)(?<!\\)\1"
_NOTICE = ("weui-msg__title", "global_error_msg", "mesg-block")


def is_wechat(page_html: str, url: str | None) -> bool:
    """A WeChat article: its address, or (a saved or proxied copy) its markup."""
    host = (urlsplit(url).hostname or "") if url else ""
    if host == "mp.weixin.qq.com":
        return True
    head = page_html[:400_000]
    if _MARKUP.search(head) and "rich_media" in head:
        return True
    # A taken-down article: WeChat's notice page, its styles from res.wx.qq.com.
    return "wx.qq.com" in head and any(cls in head for cls in _NOTICE)


_JS_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\n", "b": "", "f": "", "v": "", "0": ""}


def _js_string(s: str) -> str:
    """A JavaScript string literal's escapes undone: ``\\xNN`` are bytes (WeChat writes
    UTF-8 that way), ``\\uNNNN`` characters; anything else as it stands. Never raises
    (``unicode_escape`` warns on escapes it does not know, and may one day refuse them)."""
    out, pos = bytearray(), 0
    for m in _JS_ESCAPE.finditer(s):
        out += s[pos : m.start()].encode("utf-8", "surrogatepass")
        byte, char, other = m.groups()
        if byte:
            out.append(int(byte, 16))
        else:
            piece = chr(int(char, 16)) if char else _JS_SIMPLE.get(other, other)
            out += piece.encode("utf-8", "surrogatepass")
        pos = m.end()
    out += s[pos:].encode("utf-8", "surrogatepass")
    return out.decode("utf-8", "replace")


def _script_string(raw: str, name: str) -> str:
    m = re.search(_STR_VAR.format(name=re.escape(name)), raw)
    if not m:
        return ""
    return collapse(html.unescape(_js_string(m.group(2))))


def _publish_time(raw: str) -> str | None:
    m = _EPOCH.search(raw)
    if m:
        return datetime.fromtimestamp(int(m.group(1)), UTC).isoformat()
    m = _DATE_VAR.search(raw)
    return m.group(1) if m else None


def _first_text(tree, xpath: str) -> str:
    for el in tree.xpath(xpath):
        t = collapse(el.text_content() or "").replace("\n", " ")
        if t:
            return t
    return ""


def extract(page_html: str) -> dict:
    """Title, account (as the author), publish time and full text of a WeChat article."""
    out = {"title": "", "text": "", "author": None, "date": None, "kind": "wechat"}
    out["method"] = "wechat"
    try:
        tree = lxml.html.fromstring(page_html)
    except (etree.ParserError, ValueError):
        return out
    out["title"] = (
        _first_text(tree, "//*[@id='activity-name']")
        or _script_string(page_html, "msg_title")
        or collapse(tree.findtext(".//title") or "")
    )
    if not out["title"]:
        og = tree.xpath("//meta[@property='og:title']/@content")
        out["title"] = collapse(og[0]) if og else ""
    out["author"] = (
        _first_text(tree, "//*[@id='js_name']")
        or _script_string(page_html, "nickname")
        or _first_text(tree, "//*[contains(@class,'profile_nickname')]")
        or None
    )
    out["date"] = _publish_time(page_html)
    body = tree.xpath("//*[@id='js_content']")
    if body:
        out["text"] = element_text(body[0])
    else:
        for cls in _NOTICE:
            notice = _first_text(tree, f"//*[contains(@class,'{cls}')]")
            if notice:
                out["text"] = notice
                break
    return out
