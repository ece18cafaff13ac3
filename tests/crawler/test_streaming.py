"""The site spider yields posts in batches while it is still crawling, so storage and
matching run beside the crawl; what came through before a failure is kept; a consumer
that stops early stops the crawl."""

from __future__ import annotations

import time

import pytest

from crawler.base import CollectContext, Collection, SourceState, collect_all
from crawler.registry import source_types
from tests.processes import crawl_children
from tests.servers.http import LoopbackHTTPServer


def _site(srv, n: int) -> str:
    links = "".join(f'<li><a class="t" href="/a/{i}.html">帖子 {i}</a></li>' for i in range(n))
    srv.add(
        "/list.html",
        f"<html><body><ul>{links}</ul></body></html>",
        content_type="text/html; charset=utf-8",
    )
    for i in range(n):
        srv.add(
            f"/a/{i}.html",
            f"<html><body><h1>标题 {i}</h1><div class='c'>正文第 {i} 篇，关于校园生活的记录。</div></body></html>",
            content_type="text/html; charset=utf-8",
        )
    return srv.url("/list.html")


def _source(url: str, **extra):
    kind = source_types()["site"]
    cfg = kind.config_model.model_validate(
        {
            "name": "s",
            "type": "site",
            "urls": [url],
            "delay": 0,
            "obey_robots": False,
            "concurrency": 4,
            "list": {"item": "a.t::attr(href)"},
            "fields": {"title": "h1::text", "body": "div.c"},
            **extra,
        }
    )
    return kind(cfg, context=CollectContext())


def _spiders() -> set[int]:
    return crawl_children()  # ours only: other worktrees on this machine run crawls too


def test_posts_arrive_in_batches_before_the_crawl_ends():
    arrivals: list[tuple[float, int]] = []
    with LoopbackHTTPServer() as srv:
        source = _source(_site(srv, 250))
        with Collection(source.collect(SourceState())) as run:
            for batch in run:
                arrivals.append((time.monotonic(), len(batch.posts)))
        finished = time.monotonic()
    assert run.outcome.ok and run.outcome.fetched >= 251
    assert sum(n for _, n in arrivals) == 250 and len(arrivals) >= 3
    assert arrivals[0][0] < finished  # the first batch came while the spider was still at work


def test_collecting_a_whole_run_at_once_gathers_every_batch():
    with LoopbackHTTPServer() as srv:
        result = collect_all(_source(_site(srv, 30)), SourceState())
    assert len(result.posts) == 30 and result.batches >= 1
    assert {p.title for p in result.posts} == {f"标题 {i}" for i in range(30)}


def test_a_consumer_that_fails_stops_the_spider_child():
    before = _spiders()
    with LoopbackHTTPServer() as srv:
        source = _source(_site(srv, 300))
        with (
            pytest.raises(RuntimeError, match="database went away"),
            Collection(source.collect(SourceState())) as run,
        ):
            for _batch in run:
                raise RuntimeError("database went away")
    assert _spiders() <= before  # no crawl child left behind


def test_posts_yielded_before_a_timeout_are_kept_and_the_run_fails():
    with LoopbackHTTPServer() as srv:
        url = _site(srv, 200)
        source = _source(url, crawl_timeout="5s", delay=0.2, concurrency=1)
        result = collect_all(source, SourceState())
    assert result.error_kind == "timeout" and not result.ok
    assert result.posts and len(result.posts) < 200
    assert any("采集中止前已取得" in w for w in result.warnings)
