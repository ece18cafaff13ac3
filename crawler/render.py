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
import re
import shutil
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

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
NO_SOCKETS = (
    "try { delete window.WebSocket; delete window.RTCPeerConnection;"
    " window.open = function () { return null; }; } catch (e) {}"
)

_started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_guarded: weakref.WeakSet = weakref.WeakSet()


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
    """What a rendered page may fetch besides its documents (asked by the page's route,
    ``page_started``): a request to a host outside the source's allowed hosts (ports
    included) is aborted, as a plain fetch would refuse it; so are images, media and
    fonts. What is left is fetched hop by hop (``_fetch``)."""

    def __init__(self, allowed: list[str]):
        self.allowed = allowed

    def __call__(self, request) -> bool:
        from crawler.hosts import host_allowed

        url = request.url
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "blob", "about"):
            return False
        if scheme not in ("http", "https") or not host_allowed(url, self.allowed):
            return True
        return request.resource_type in SKIPPED_RESOURCES


def unanswered(request) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: scrapy-playwright asks this only about a request the
    page's own route did not answer, which happens only when setting that route up
    failed (``page_started``). Refused: the browser alone would follow any redirect."""
    return True


def with_render(settings: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """The spider's settings, with its web requests sent through Chromium."""
    timeout_ms = float(job.get("timeout", 30)) * 1000
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        **settings,
        "DOWNLOAD_HANDLERS": {**settings["DOWNLOAD_HANDLERS"], "http": handler, "https": handler},
        "DOWNLOADER_MIDDLEWARES": {
            **settings["DOWNLOADER_MIDDLEWARES"],
            "crawler.render.RenderBudget": 45,  # after HostGuard: only allowed pages count
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
        "PLAYWRIGHT_ABORT_REQUEST": unanswered,  # fail closed
    }


class OverBudget(IgnoreRequest):
    """A page beyond ``render_max_pages``: left for the next run, not an error."""


class RenderBudget:
    """Downloader middleware: at most ``render_max_pages`` pages rendered per run (each
    costs a browser page); the rest are counted and skipped."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.rendered = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if not request.meta.get("playwright"):
            return  # robots.txt
        job = getattr(self.crawler.spider, "job", {}) or {}
        if self.rendered >= int(job.get("render_max_pages") or 50):
            self.crawler.stats.inc_value("sentinel/render_skipped")
            raise OverBudget(f"render_max_pages {job.get('render_max_pages')}")
        self.rendered += 1
        return


async def page_started(page, request) -> None:
    """``playwright_page_init_callback``: the clock of the page's time limit starts
    before navigation; sockets that bypass interception are switched off; every request
    of the page is fetched here, hop by hop (``_fetch``)."""
    _started[page] = time.monotonic()
    meta = request.meta
    try:
        await _set_up(page, meta)
    except Exception as e:  # scrapy-playwright only logs it: the page then loads nothing
        meta["sentinel_refused"] = (
            "render",
            f"浏览器未能设置页面的采集限制（{type(e).__name__}），页面未打开",
        )
        raise


async def _set_up(page, meta: dict) -> None:
    await page.add_init_script(NO_SOCKETS)
    guard = InPageGuard(list(meta.get("sentinel_allowed") or []))

    async def route(route, req) -> None:
        page_itself = req.is_navigation_request() and req.frame == page.main_frame
        try:
            if not req.is_navigation_request() and guard(req):
                await route.abort("blockedbyclient")  # offsite, or an image, a font, media
            else:
                await _fetch(page, route, req, meta, page_itself)
        except _Refused as e:
            if page_itself:  # a refused frame, script or XHR is not the page's failure
                meta["sentinel_refused"] = e.why
            await _abort(route, "blockedbyclient")
        except Exception as e:  # never leave a request waiting for the page's whole timeout
            why, code = _failure(req.url, e, float(meta.get("sentinel_timeout", 30)))
            if page_itself:
                meta["sentinel_refused"] = why
            await _abort(route, code)

    await page.route("**", route)
    if page.context not in _guarded:
        # Every request of the crawl's own pages is answered by their routes; what reaches
        # the context comes from a page nobody asked for (a popup): refused.
        _guarded.add(page.context)
        await page.context.route("**", _refuse)


async def _refuse(route, req) -> None:
    await route.abort("blockedbyclient")


async def _abort(route, code: str) -> None:
    try:
        await route.abort(code)
    except Exception:
        pass  # the page is already closed or the route handled: nothing is waiting


class _Refused(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.why = (kind, message)


REDIRECTS = (301, 302, 303, 307, 308)
_HOP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection"}


async def _fetch(page, route, req, meta: dict, page_itself: bool) -> None:
    """One request of the page (its document, a frame, a script, a style, an XHR),
    fetched here hop by hop: the browser follows redirects without asking its routes,
    so each hop is checked as a plain fetch checks it (allowed hosts, no steering into
    the intranet, ``max_redirects``) before it is requested, within what is left of the
    page's ``timeout``. The page's document is cut at ``max_bytes``; anything else
    larger than that is refused."""
    from urllib.parse import urljoin

    from crawler.hosts import host_allowed, redirect_refusal

    allowed, limit = meta["sentinel_allowed"], int(meta.get("sentinel_max_redirects", 5))
    timeout = float(meta.get("sentinel_timeout", 30))
    url, previous, method, data = req.url, None, req.method, req.post_data_buffer
    headers = {**req.headers, "accept-encoding": "identity"}  # no decompression bomb
    for hop in range(limit + 2):
        if hop > limit:
            raise _Refused("redirect", f"跳转超过 {limit} 次（max_redirects）")
        if previous is None and not host_allowed(url, allowed):
            raise _Refused("offsite", f"{url[:200]} 不在允许的网站之内")
        refused = previous and redirect_refusal(
            previous, url, allowed, bool(meta.get("sentinel_private"))
        )
        if refused:
            raise _Refused(*refused)
        left = timeout - (time.monotonic() - _started.get(page, time.monotonic()))
        response = await page.context.request.fetch(
            url,
            method=method,
            headers=headers,
            data=data,
            max_redirects=0,
            timeout=max(1.0, left * 1000),
        )
        location = response.headers.get("location")
        if response.status not in REDIRECTS or not location:
            break
        try:
            target = urljoin(url, location.strip())
            urlsplit(target).port  # noqa: B018 - raises ValueError for a port that is no number
        except ValueError:  # "http://[::1": refused as a plain fetch refuses it
            raise _Refused("redirect", f"{url[:200]} 跳转到无效的地址 {location[:200]!r}") from None
        previous, url = url, target
        if response.status == 303 or method == "POST" and response.status in (301, 302):
            method, data = "GET", None
    body = await response.body()
    cap = int(meta.get("sentinel_max_bytes", 10 * 1024 * 1024))
    if len(body) > cap:
        if not page_itself:
            raise _Refused("too_large", f"{url[:200]} 超过 {cap} 字节（max_bytes）")
        body, meta["sentinel_cut"] = body[:cap], True
    if url != req.url and page_itself:
        meta["sentinel_final_url"] = url
        # The document keeps the first URL: its links resolve against where it really is.
        body = body.replace(b"<head>", f'<head><base href="{url}">'.encode(), 1)
    keep = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS}
    await route.fulfill(status=response.status, headers=keep, body=body)


def _failure(url: str, exc: Exception, timeout: float) -> tuple[tuple[str, str], str]:
    """(kind, one line) and the browser's error code for a request whose fetch failed
    (the server hung, refused, closed), as a plain fetch would say it."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "TimeoutError" or "Timeout" in text:
        why = f"{url[:200]} 在 {timeout:g} 秒内没有完整返回（从连接到最后一个字节）"
        return ("timeout", why), "timedout"
    if "ECONNREFUSED" in text:
        return ("refused", f"{urlsplit(url).netloc} 拒绝连接"), "connectionrefused"
    if "ENOTFOUND" in text or "EAI_AGAIN" in text:
        return ("dns", f"无法解析 {url[:200]} 的域名"), "namenotresolved"
    return ("connection", f"{url[:200]}：{text[:200]}"), "connectionfailed"


async def wait_rendered(page, wait: str | int | None, timeout: float, strict: bool = True) -> None:
    """The wait condition, within what is left of the page's ``timeout``: a CSS selector
    that must appear, or milliseconds to let scripts run. A list page waits for its
    items without ``strict``: a list may be empty, and then it is read as it is."""
    left_ms = max(1.0, (timeout - (time.monotonic() - _started.get(page, time.monotonic()))) * 1000)
    if isinstance(wait, int) and not isinstance(wait, bool):
        if wait > left_ms:
            raise TimeoutError(f"render_wait {wait} 毫秒超过了页面剩余的时限（timeout）")
        await page.wait_for_timeout(wait)
    elif isinstance(wait, str) and wait:
        try:
            await page.wait_for_selector(wait, state="attached", timeout=left_ms)
        except Exception as e:
            if type(e).__name__ != "TimeoutError":
                raise
            if strict:
                raise TimeoutError(
                    f"页面在时限（timeout）内没有出现 render_wait 指定的元素 {wait}"
                ) from None


def _css(selector: str | None) -> str | None:
    """Our selector (``a.t::attr(href)``) as the element selector a browser waits for;
    None for XPath, which then waits for the load event only."""
    if not selector or selector.lstrip().startswith(("/", "./", "(")):
        return None
    return re.sub(r"::(text|attr\([^)]*\))\s*$", "", selector.strip()) or None


def request_meta(job: dict[str, Any], listing: bool = False) -> dict[str, Any]:
    """Meta of each request of a rendering spider (empty without ``render``). An article
    page waits for ``render_wait``; a list page for its rows or item links (and for
    ``render_wait`` when that is a number of milliseconds)."""
    if not job.get("render"):
        return {}
    from scrapy_playwright.page import PageMethod

    timeout, wait = float(job.get("timeout", 30)), job.get("render_wait")
    if listing:
        spec = job.get("list") or {}
        items = _css(spec.get("row") or spec.get("item"))
        waits = [PageMethod(wait_rendered, items, timeout, False)]
        if isinstance(wait, int):
            waits.insert(0, PageMethod(wait_rendered, wait, timeout))
    else:
        waits = [PageMethod(wait_rendered, wait, timeout)]
    return {
        "playwright": True,
        "sentinel_allowed": list(job.get("allowed_domains") or []),
        "sentinel_private": bool(job.get("allow_private")),
        "sentinel_max_redirects": int(job.get("max_redirects", 5)),
        "sentinel_max_bytes": int(job.get("max_bytes", 10 * 1024 * 1024)),
        "sentinel_timeout": timeout,
        "playwright_page_init_callback": "crawler.render.page_started",
        "playwright_page_methods": waits,
    }


def where_it_ended(response, job: dict[str, Any]):
    """(the response at the URL the page really ended at, the reason it is not kept when
    that is outside the allowed hosts: a redirect or a script that navigated away)."""
    from crawler.hosts import host_allowed

    if "playwright" not in (response.flags or []):
        return response, None
    if response.meta.get("sentinel_final_url"):  # redirected inside the browser
        response = response.replace(url=response.meta["sentinel_final_url"])
    if host_allowed(response.url, list(job.get("allowed_domains") or [])):
        return response, None
    return (
        response,
        f"{response.url[:200]} 不在允许的网站（allowed_domains，含端口）之内，页面未保存",
    )
