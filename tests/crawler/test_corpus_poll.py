"""All of ../shared/corpus/, served on 127.0.0.1 and polled: every file as a feed through
the HTTP layer (feeds, pages, CSV, word lists, licences: whatever a feed URL might
return), and every HTML page through the site spider, with automatic extraction and
with selectors. Nothing raises, every error is one line, it all ends in bounded time.

The files are read from ../shared/corpus (two sets are copyleft: served, never copied)."""

from __future__ import annotations

import mimetypes
import time

from tests.conftest import CORPUS

PAGES = (".html", ".htm")


def _serve_everything(server):
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    urls = {}
    for i, path in enumerate(files):
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        urls[path] = server.add_file(f"/c/{i}/{path.name}", path, content_type=ctype)
    return urls


def test_every_file_of_the_corpus_polls_as_a_feed_without_traceback(server, collect):
    urls = _serve_everything(server)
    assert len(urls) > 1800
    t = time.monotonic()
    crashes, multi_line, outcomes = [], [], {"ok": 0, "error": 0}
    for path, url in urls.items():
        try:
            r = collect({"name": "c", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
        except Exception as e:
            crashes.append(f"{path.relative_to(CORPUS)}: {type(e).__name__}: {e}")
            continue
        outcomes["error" if r.error else "ok"] += 1
        if r.error and "\n" in r.error:
            multi_line.append(f"{path.relative_to(CORPUS)}: {r.error!r}")
    took = time.monotonic() - t
    print(f"\n{len(urls)} corpus files polled as feeds in {took:.1f} s: {outcomes}")
    assert crashes == [] and multi_line == []
    assert took < 120


def test_every_page_of_the_corpus_goes_through_the_spider_without_traceback(server, collect):
    urls = [u for p, u in _serve_everything(server).items() if p.suffix.lower() in PAGES]
    assert len(urls) >= 30
    t = time.monotonic()
    auto = collect(
        {
            "name": "p",
            "type": "site",
            "urls": urls,
            "delay": 0,
            "obey_robots": False,
            "concurrency": 8,
            "timeout": 20,
            "crawl_timeout": 240,
        }
    )
    picked = collect(
        {
            "name": "q",
            "type": "site",
            "urls": urls,
            "delay": 0,
            "obey_robots": False,
            "concurrency": 8,
            "timeout": 20,
            "crawl_timeout": 240,
            "fields": {
                "title": "h1::text",
                "body": "//div|//td",
                "author": "a::text",
                "published": "span::text",
                "replies": "em::text",
            },
        }
    )
    took = time.monotonic() - t
    print(
        f"\n{len(urls)} corpus pages crawled twice in {took:.1f} s: automatic {len(auto.posts)} posts, "
        f"selectors {len(picked.posts)} posts; warnings {len(auto.warnings)}/{len(picked.warnings)}"
    )
    lists = [w for w in auto.warnings if "这是列表页" in w]  # a board or index, not an article
    assert len(auto.posts) + len(lists) == len(urls)
    assert len(picked.posts) == len(urls)  # with selectors every page makes a post
    for r in (auto, picked):
        assert r.ok, (r.error_kind, r.error)
        assert all("\n" not in w for w in r.warnings)
    assert took < 180
