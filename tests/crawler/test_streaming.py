"""The site spider hands posts over while it is still crawling, so storage and matching
run beside the crawl; what came through before a failure is kept."""

from __future__ import annotations

import time

from crawler.base import CollectContext, SourceState, source_types
from tests.servers.http import LoopbackHTTPServer


def _site(srv, n: int) -> str:
    links = "".join(f'<li><a class="t" href="/a/{i}.html">帖子 {i}</a></li>' for i in range(n))
    srv.add("/list.html", f"<html><body><ul>{links}</ul></body></html>", content_type="text/html; charset=utf-8")
    for i in range(n):
        srv.add(f"/a/{i}.html", f"<html><body><h1>标题 {i}</h1><div class='c'>正文第 {i} 篇，关于校园生活的记录。</div></body></html>",
                content_type="text/html; charset=utf-8")
    return srv.url("/list.html")


def _cfg(url: str):
    kind = source_types()["site"]
    return kind, kind.config_model.model_validate({
        "name": "s", "type": "site", "urls": [url], "delay": 0, "obey_robots": False, "concurrency": 4,
        "list": {"item": "a.t::attr(href)"}, "fields": {"title": "h1::text", "body": "div.c"},
    })


def test_posts_arrive_in_batches_before_the_crawl_ends():
    arrivals: list[tuple[float, int]] = []
    with LoopbackHTTPServer() as srv:
        kind, cfg = _cfg(_site(srv, 250))
        ctx = CollectContext(on_posts=lambda posts: arrivals.append((time.monotonic(), len(posts))))
        result = kind(cfg, context=ctx).collect(SourceState())
        finished = time.monotonic()
    assert result.ok and result.posts == [] and result.streamed == 250
    assert sum(n for _, n in arrivals) == 250 and len(arrivals) >= 3
    assert arrivals[0][0] < finished  # the first batch came while the spider was still at work


def test_without_a_receiver_posts_come_back_in_the_result():
    with LoopbackHTTPServer() as srv:
        kind, cfg = _cfg(_site(srv, 30))
        result = kind(cfg, context=CollectContext()).collect(SourceState())
    assert len(result.posts) == 30 and result.streamed == 0
    assert {p.title for p in result.posts} == {f"标题 {i}" for i in range(30)}


def test_a_failing_receiver_stops_the_spider_child():
    import os
    import subprocess

    import pytest

    def boom(posts):
        raise RuntimeError("database went away")

    def spiders() -> set[str]:
        # Our own children only: other worktrees on this machine run crawls too.
        out = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "crawler.spider"],
                             capture_output=True, text=True, check=False)
        return set(out.stdout.split()) - {str(os.getpid())}

    before = spiders()
    with LoopbackHTTPServer() as srv:
        kind, cfg = _cfg(_site(srv, 300))
        with pytest.raises(RuntimeError, match="database went away"):
            kind(cfg, context=CollectContext(on_posts=boom)).collect(SourceState())
    assert spiders() <= before  # no crawl child left behind
