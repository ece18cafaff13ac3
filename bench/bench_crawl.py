"""Collection benchmarks (``python -m bench.bench_crawl`` or ``python -m bench crawl``).

1. Poll 1,000 local feeds of which 990 are unchanged (conditional GET): wall time,
   requests, bytes. Goal: ≤ 5 s.
2. Crawl a 2,000-article local site (100 list pages, 20 links each) through the
   configured site spider, and through a bare Scrapy spider doing the same walk with
   the same settings, in the same run. Goal: ours ≥ 80 % of bare Scrapy's pages/s.

``poll_feeds()`` and ``crawl_site()`` return the figures as dicts; ``crawl_site`` takes
``on_posts`` (called with the run's posts after the crawl, timed in) or ``stream``
(called with each batch as the source yields it: the daemon's path) so matching and
storage can be measured on the same path.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from crawler.base import CollectContext, Collection, SourceState, collect_all
from crawler.http import shared_client
from crawler.registry import source_types
from tests.servers.http import LoopbackHTTPServer

ROOT = Path(__file__).resolve().parent.parent


def _feed(i: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>学院新闻 {i}-{version}-{k}</title><link>http://news{i}.example.edu.cn/{version}/{k}</link>"
        f"<description>第{k}条：江西某学院今日举行活动，师生参加。</description>"
        f"<pubDate>Mon, 23 Nov 2026 08:{k:02d}:00 +0800</pubDate></item>"
        for k in range(10)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {i}</title>'
        f"{items}</channel></rss>"
    ).encode()


def poll_feeds(n: int = 1000, changed: int = 10, workers: int = 8) -> dict:
    """Prime ``n`` feeds, change ``changed`` of them, and time one poll of all."""
    kind = source_types()["feed"]
    ctx = CollectContext(user_agent="sentinel-bench/0.1")
    client = shared_client()
    with LoopbackHTTPServer() as srv:
        for i in range(n):
            srv.add(
                f"/feed/{i}.xml",
                _feed(i, 1),
                content_type="application/rss+xml",
                etag=f'"{i}-1"',
                last_modified="Mon, 23 Nov 2026 00:00:00 GMT",
            )
        sources = [
            kind(
                kind.config_model.model_validate(
                    {"name": f"f{i}", "type": "feed", "url": srv.url(f"/feed/{i}.xml"), "delay": 0}
                ),
                context=ctx,
            )
            for i in range(n)
        ]
        states = [SourceState() for _ in range(n)]
        with ThreadPoolExecutor(workers) as pool:
            first = list(pool.map(lambda s: collect_all(*s), zip(sources, states)))
        states = [r.state for r in first]
        for i in range(0, n, max(1, n // changed))[:changed]:
            srv.add(
                f"/feed/{i}.xml", _feed(i, 2), content_type="application/rss+xml", etag=f'"{i}-2"'
            )
        req0, bytes0, log0 = client.requests, client.wire_bytes, len(srv.log)
        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda s: collect_all(*s), zip(sources, states)))
        wall = time.perf_counter() - t
        return {
            "feeds": n,
            "changed": changed,
            "wall_s": wall,
            "requests": client.requests - req0,
            "server_requests": len(srv.log) - log0,
            "wire_bytes": client.wire_bytes - bytes0,
            "not_modified": sum(r.not_modified for r in results),
            "parsed": sum(1 for r in results if not r.not_modified and r.ok),
            "new_posts": sum(len(r.posts) for r in results),
            "errors": sum(1 for r in results if not r.ok),
        }


def _article(i: int) -> bytes:
    para = f"第{i}篇：学院召开专题会议，研究部署校园安全、学生管理和后勤保障等工作。与会人员认真讨论并提出意见。"
    return (
        f'<html><head><meta charset="utf-8"><title>新闻 {i}</title></head><body><div class="nav">首页 | 新闻</div>'
        f'<h1 class="title">校园新闻第{i}篇</h1><span class="author">记者{i % 17}</span>'
        f'<span class="time">2026-11-{1 + i % 28:02d} 08:15</span><div class="content">'
        + "".join(f"<p>{para}</p>" for _ in range(8))
        + '</div><div class="foot">版权所有</div></body></html>'
    ).encode("utf-8")


def _list_page(page: int, per: int, pages: int) -> bytes:
    links = "".join(
        f'<li><a class="item" href="/a/{(page - 1) * per + k}.html">第{k}条</a></li>'
        for k in range(per)
    )
    nxt = f'<a class="next" href="/list/{page + 1}.html">下一页</a>' if page < pages else ""
    return f'<html><head><meta charset="utf-8"></head><body><ul>{links}</ul>{nxt}</body></html>'.encode()


SITE = {
    "list": {"item": "a.item::attr(href)", "next": "a.next::attr(href)"},
    "fields": {
        "title": "h1.title::text",
        "body": "div.content",
        "author": "span.author::text",
        "published": "span.time::text",
    },
}
CONCURRENCY = 16


def _serve_site(srv: LoopbackHTTPServer, articles: int, per: int = 20) -> int:
    pages = (articles + per - 1) // per
    for p in range(1, pages + 1):
        srv.add(f"/list/{p}.html", _list_page(p, per, pages))
    for i in range(articles):
        srv.add(f"/a/{i}.html", _article(i))
    srv.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    return pages


def _bare_scrapy(start: str, max_pages: int) -> dict:
    """Run the bare spider in a child process (the reactor cannot restart)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.pickle")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bench.bench_crawl", "--bare-child", start, str(max_pages), out],
            check=True,
            env=env,
            cwd=tmp,
        )
        wall = time.perf_counter() - t
        with open(out, "rb") as fh:
            stats = pickle.load(fh)
    stats["wall_s"] = wall
    return stats


def _bare_child(start: str, max_pages: int, out: str) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.spider import settings_for

    items = []

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            yield scrapy.Request(start, callback=self.parse_list, cb_kwargs={"page": 1})

        def parse_list(self, response, page):
            for href in response.css("a.item::attr(href)").getall():
                yield response.follow(href, callback=self.parse_article)
            nxt = response.css("a.next::attr(href)").get()
            if nxt and page < max_pages:
                yield response.follow(nxt, callback=self.parse_list, cb_kwargs={"page": page + 1})

        def parse_article(self, response):
            items.append(
                {
                    "url": response.url,
                    "title": response.css("h1.title::text").get(),
                    "body": "\n".join(response.css("div.content p::text").getall()),
                }
            )

        def closed(self, reason):
            s = self.crawler.stats.get_stats()
            with open(out, "wb") as fh:
                pickle.dump(
                    {
                        "responses": s.get("downloader/response_count", 0),
                        "elapsed": (datetime.now(UTC) - s["start_time"]).total_seconds(),
                        "items": len(items),
                    },
                    fh,
                )

    job = {"max_requests": 0, "delay": 0, "concurrency": CONCURRENCY, "obey_robots": True}
    process = CrawlerProcess(settings_for(job))
    process.crawl(Bare)
    process.start()


def crawl_site(
    articles: int = 2000,
    on_posts: Callable[[list], None] | None = None,
    stream: Callable[[list], None] | None = None,
) -> dict:
    """Our site spider vs bare Scrapy on the same local site, same settings."""
    kind = source_types()["site"]
    with LoopbackHTTPServer() as srv:
        pages = _serve_site(srv, articles)
        start = srv.url("/list/1.html")
        bare = _bare_scrapy(start, pages)
        cfg = kind.config_model.model_validate(
            {
                "name": "bench-site",
                "type": "site",
                "urls": [start],
                "delay": 0,
                "concurrency": CONCURRENCY,
                "max_requests": articles + pages + 10,
                "crawl_timeout": 600,
                "list": {**SITE["list"], "max_pages": pages},
                "fields": SITE["fields"],
            }
        )
        t = time.perf_counter()
        source = kind(cfg, context=CollectContext(user_agent="sentinel-bench/0.1"))
        posts: list = []
        count = 0
        with Collection(source.collect(SourceState())) as run:
            for batch in run:
                count += len(batch.posts)
                if stream is not None:
                    stream(batch.posts)
                else:
                    posts += batch.posts
        if on_posts is not None:
            on_posts(posts)
        ours_wall = time.perf_counter() - t
    result = run.outcome
    ours_crawl = result.state.data.get("last_crawl_seconds") or ours_wall
    bare_pps = bare["responses"] / bare["elapsed"]
    ours_pps = result.fetched / ours_crawl
    return {
        "articles": articles,
        "list_pages": pages,
        "ours_posts": count,
        "ours_responses": result.fetched,
        "ours_crawl_s": ours_crawl,
        "ours_wall_s": ours_wall,
        "ours_pages_per_s": ours_pps,
        "ours_end_to_end_pages_per_s": result.fetched / ours_wall,
        "bare_items": bare["items"],
        "bare_responses": bare["responses"],
        "bare_crawl_s": bare["elapsed"],
        "bare_wall_s": bare["wall_s"],
        "bare_pages_per_s": bare_pps,
        "bare_end_to_end_pages_per_s": bare["responses"] / bare["wall_s"],
        "ratio": ours_pps / bare_pps,
        "ratio_end_to_end": (result.fetched / ours_wall) / (bare["responses"] / bare["wall_s"]),
        "errors": result.error,
    }


def with_storage_and_matching(tmp: Path) -> Callable[[list], None]:
    """An ``on_posts`` that does what the daemon does after a crawl: store the posts with
    their snapshots and near-duplicate links in SQLite, then match them and open incidents."""
    from crawler.dedup import NearDuplicateIndex
    from sentinel.config import Config
    from sentinel.pipeline import Pipeline
    from storage.db import Database
    from storage.models import Source
    from storage.posts import store_posts

    tmp.mkdir(parents=True, exist_ok=True)
    cfg = Config(database=f"sqlite:///{tmp / 'bench.db'}", var_dir=str(tmp / "var"), base_dir=tmp)
    db = Database(cfg.database_url)
    pipeline = Pipeline(cfg, db)
    pipeline.matchers.get()  # warm: start-up is not part of the crawl

    index = NearDuplicateIndex()
    with db.session() as s:
        s.add(Source(name="bench-site", type="site", state={}))

    def on_posts(posts: list) -> None:  # what Pipeline.collect does with each batch
        with db.session() as s:
            src = s.query(Source).filter_by(name="bench-site").one()
            store_posts(s, src, posts, now=datetime.now(UTC), dedup=index)
        pipeline.process_pending(limit=len(posts) + 10)

    return on_posts


def main() -> None:
    f = poll_feeds()
    print(
        f"feeds: {f['feeds']} polled, {f['changed']} changed: {f['wall_s']:.2f} s wall "
        f"(goal ≤ 5 s), {f['requests']} requests, {f['wire_bytes']:,} bytes on the wire, "
        f"{f['not_modified']} answered 304, {f['parsed']} parsed, {f['new_posts']} posts, {f['errors']} errors"
    )
    s = crawl_site()
    print(f"site: {s['articles']} articles + {s['list_pages']} list pages")
    print(
        f"  bare Scrapy : {s['bare_responses']} responses in {s['bare_crawl_s']:.2f} s crawl "
        f"= {s['bare_pages_per_s']:.0f} pages/s ({s['bare_wall_s']:.2f} s with process start)"
    )
    print(
        f"  site spider : {s['ours_responses']} responses, {s['ours_posts']} posts in {s['ours_crawl_s']:.2f} s crawl "
        f"= {s['ours_pages_per_s']:.0f} pages/s ({s['ours_wall_s']:.2f} s with process start and hand-back)"
    )
    print(
        f"  ratio       : {s['ratio']:.0%} of bare Scrapy (goal ≥ 80 %); end to end {s['ratio_end_to_end']:.0%}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        after = crawl_site(on_posts=with_storage_and_matching(Path(tmp) / "a"))
    with tempfile.TemporaryDirectory() as tmp:
        full = crawl_site(stream=with_storage_and_matching(Path(tmp) / "b"))
    print(
        f"  storage and matching after the crawl: {after['ours_wall_s']:.2f} s = "
        f"{after['ours_end_to_end_pages_per_s']:.0f} pages/s end to end, "
        f"{after['ratio_end_to_end']:.0%} of bare Scrapy end to end"
    )
    print(
        f"  storage and matching streamed beside the crawl (the daemon's path): {full['ours_wall_s']:.2f} s = "
        f"{full['ours_end_to_end_pages_per_s']:.0f} pages/s end to end, "
        f"{full['ratio_end_to_end']:.0%} of bare Scrapy end to end in the same run (goal ≥ 80 %)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-child":
        _bare_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
