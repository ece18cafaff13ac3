"""Rendered pages (``render: true``): the spider's requests go through headless Chromium
by scrapy-playwright, for pages whose text JavaScript writes (Weibo, Zhihu, forum themes
that show 加载中 until a script has run).

The browser is the system's Chromium (Debian's ``/usr/bin/chromium``, or ``browser_path``
in sentinel.yaml); nothing is ever downloaded. The limits of plain fetches hold inside
the page too: every request the page makes (scripts, XHR, frames, redirects) must be to
an allowed host, or it is aborted; images, media and fonts are not fetched at all; one
page, from navigation to the end of its wait, gets ``timeout``; the HTML kept is cut at
``max_bytes``; a run renders at most ``render_max_pages`` pages. The browser lives in the
crawl's child process and ends with it (``crawler.child`` makes sure of that).
"""

from __future__ import annotations

import os
import shutil
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

# The Chromium the project uses: Debian's, through its wrapper script.
CANDIDATES = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# What a page need not load for its text: the bulk of its bytes, none of its words.
SKIPPED_RESOURCES = {"image", "media", "font"}
# Connections that bypass the browser's request interception: switched off in the page.
NO_SOCKETS = "try { delete window.WebSocket; delete window.RTCPeerConnection; } catch (e) {}"

_started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class BrowserMissing(Exception):
    """No usable Chromium: the message says what to install or configure."""


def find_browser(browser_path: str | None = None) -> str:
    """The Chromium executable to launch: ``browser_path`` when given (it must exist),
    else Debian's ``chromium`` on the PATH."""
    if browser_path:
        path = shutil.which(browser_path) or browser_path
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrowserMissing(
                f"browser_path 指定的浏览器 {browser_path} 不存在或不可执行；"
                "请改为 Chromium 的实际位置（如 /usr/bin/chromium）"
            )
        return path
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "找不到 Chromium 浏览器，无法渲染页面（render: true）：请在服务器上安装 chromium"
        "（Debian/Ubuntu：apt-get install chromium），或在 sentinel.yaml 中用 browser_path 指明其位置"
    )


class InPageGuard:
    """``PLAYWRIGHT_ABORT_REQUEST``: what a rendered page may fetch. A request to a host
    outside the source's allowed hosts (ports included) is aborted, as a plain fetch
    would refuse it; so are images, media and fonts."""

    def __init__(self, allowed: list[str]):
        self.allowed = allowed
        self.blocked: list[str] = []

    def __call__(self, request) -> bool:
        from crawler.hosts import host_allowed

        url = request.url
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "blob", "about"):
            return False
        if scheme not in ("http", "https") or not host_allowed(url, self.allowed):
            if len(self.blocked) < 100:
                self.blocked.append(url[:200])
            return True
        return request.resource_type in SKIPPED_RESOURCES


def render_settings(job: dict[str, Any]) -> dict[str, Any]:
    """Scrapy settings that send the spider's requests through Chromium."""
    timeout_ms = float(job.get("timeout", 30)) * 1000
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    budget = int(job.get("render_max_pages") or 50)
    limit = int(job.get("max_requests", 0) or 0)
    return {
        "DOWNLOAD_HANDLERS": {
            "data": None,
            "file": None,
            "ftp": None,
            "s3": None,
            "http": handler,
            "https": handler,
        },
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": find_browser(job.get("browser_path")),
            "headless": True,
            "args": LAUNCH_ARGS,
            "timeout": timeout_ms,
        },
        "PLAYWRIGHT_CONTEXTS": {
            "default": {
                "service_workers": "block",
                "accept_downloads": False,
                "user_agent": job.get("user_agent") or "sentinel/0.1",
                "locale": "zh-CN",
                "timezone_id": job.get("timezone", "Asia/Shanghai"),
            }
        },
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": int(job.get("concurrency", 2)),
        "PLAYWRIGHT_ABORT_REQUEST": InPageGuard(list(job.get("allowed_domains") or [])),
        # The page budget: rendering costs a browser page each, so a run stops here.
        "CLOSESPIDER_PAGECOUNT": min(budget, limit) if limit else budget,
    }


async def page_started(page, request) -> None:
    """``playwright_page_init_callback``: the clock of the page's time limit starts
    before navigation; sockets that bypass interception are switched off."""
    _started[page] = time.monotonic()
    await page.add_init_script(NO_SOCKETS)


async def wait_rendered(page, wait: str | int | None, timeout: float) -> None:
    """The ``render_wait`` condition, within what is left of the page's ``timeout``:
    a CSS selector that must appear, or milliseconds to let scripts run."""
    left_ms = max(1.0, (timeout - (time.monotonic() - _started.get(page, time.monotonic()))) * 1000)
    if isinstance(wait, int) and not isinstance(wait, bool):
        if wait > left_ms:
            raise TimeoutError(f"render_wait {wait} 毫秒超过了页面剩余的时限（timeout）")
        await page.wait_for_timeout(wait)
    elif isinstance(wait, str) and wait:
        try:
            await page.wait_for_selector(wait, state="attached", timeout=left_ms)
        except Exception as e:
            if type(e).__name__ == "TimeoutError":
                raise TimeoutError(
                    f"页面在时限（timeout）内没有出现 render_wait 指定的元素 {wait}"
                ) from None
            raise


def request_meta(job: dict[str, Any]) -> dict[str, Any]:
    """Meta of each request of a rendering spider (empty without ``render``)."""
    if not job.get("render"):
        return {}
    from scrapy_playwright.page import PageMethod

    return {
        "playwright": True,
        "playwright_page_init_callback": "crawler.render.page_started",
        "playwright_page_methods": [
            PageMethod(wait_rendered, job.get("render_wait"), float(job.get("timeout", 30)))
        ],
    }


def offsite_after_render(response, job: dict[str, Any]) -> str | None:
    """Where a rendered page ended up, when that is outside the allowed hosts (a redirect
    or a script that navigated away): the reason it is not kept."""
    from crawler.hosts import host_allowed

    if "playwright" not in (response.flags or []):
        return None
    if host_allowed(response.url, list(job.get("allowed_domains") or [])):
        return None
    return f"{response.url[:200]} 不在允许的网站（allowed_domains，含端口）之内，页面未保存"
