"""What a failed Scrapy download was, as one of our fetch error kinds and a sentence in
the office's words (the spider's errback reports it this way)."""

from __future__ import annotations


def error_kind(failure) -> tuple[str, str]:
    """A short machine name and a message for a Scrapy failure."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as terr

    exc = failure.value
    name = type(exc).__name__
    if isinstance(exc, HttpError):
        status = exc.response.status
        if 300 <= status < 400:  # a redirect Scrapy would not follow
            where = (exc.response.headers.get(b"Location") or b"").decode("latin-1")[:200]
            return "redirect", f"HTTP {status}，跳转到无法采集的地址 {where!r}"
        if status == 429:
            return "rate_limited", "HTTP 429"
        return ("http_4xx" if status < 500 else "http_5xx"), f"HTTP {status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        for kind in ("offsite", "redirect"):
            if text.startswith(kind + ": "):
                return kind, text[len(kind) + 2 :]
        if "DOWNLOAD_MAXSIZE" in text:
            return "too_large", "解压后内容超过大小限制（疑似压缩炸弹），已停止读取"
        if (
            "robots" in text.lower()
            or name == "IgnoreRequest"
            and "Forbidden by robots.txt" in text
        ):
            return "robots", "robots.txt 禁止采集"
        return "ignored", text or name
    if type(exc).__module__.startswith("playwright"):
        return _browser_error(exc)
    text = str(exc)
    by_name = {
        "DownloadTimeoutError": "timeout",
        "TimeoutError": "timeout",
        "TCPTimedOutError": "timeout",
        "CannotResolveHostError": "dns",
        "DNSLookupError": "dns",
        "DownloadConnectionRefusedError": "refused",
        "ConnectionRefusedError": "refused",
        "ResponseDataLossError": "connection",
        "ResponseFailed": "connection",
        "ConnectionLost": "connection",
        "ConnectionDone": "connection",
    }
    if name in by_name:
        return by_name[name], text or name
    if isinstance(exc, (terr.TimeoutError, terr.TCPTimedOutError)):
        return "timeout", "未在时限内收到完整响应"
    if isinstance(exc, terr.DNSLookupError):
        return "dns", "无法解析域名"
    if isinstance(exc, terr.ConnectionRefusedError):
        return "refused", "对方拒绝连接"
    if name == "DownloadCancelledError" or "maxsize" in text.lower() or "max size" in text.lower():
        return "too_large", f"响应超过大小限制（{text or name}）"
    if "DataLoss" in text or "ResponseFailed" in text:
        return "connection", f"服务器中途断开了响应（{name}）"
    return "connection", f"{name}: {text}"


# Chromium's network errors (render: true), by what they mean for the office.
_NET_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": ("dns", "无法解析域名"),
    "ERR_CONNECTION_REFUSED": ("refused", "对方拒绝连接"),
    "ERR_CONNECTION_RESET": ("connection", "连接被对方重置"),
    "ERR_CONNECTION_CLOSED": ("connection", "服务器中途断开了连接"),
    "ERR_EMPTY_RESPONSE": ("connection", "服务器没有返回内容"),
    "ERR_TIMED_OUT": ("timeout", "连接超时"),
    "ERR_CONNECTION_FAILED": ("connection", "无法连接服务器"),
    "ERR_TOO_MANY_REDIRECTS": ("redirect", "跳转次数过多"),
    "ERR_BLOCKED_BY_CLIENT": ("offsite", "页面跳转到允许范围以外的网站，已拦截"),
    "ERR_FAILED": ("offsite", "页面跳转到允许范围以外的网站，已拦截"),
}


def _browser_error(exc) -> tuple[str, str]:
    """A Playwright error (a rendered page) as a kind and one line, not its call log."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "TimeoutError":
        return "timeout", "浏览器未能在时限（timeout）内打开页面"
    for code, (kind, message) in _NET_ERRORS.items():
        if f"net::{code}" in text:
            return kind, message
    return "render", f"浏览器渲染失败：{text[:200]}"
