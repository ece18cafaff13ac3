"""Crawl workers (``python -m bench workers``): two ``sentinel worker`` processes against
one on a 2,000-page site (100 list pages of 20 articles, every article answered after
40 ms as a slow site does), through Redis (``crawl_queue``, its database 14, a key
prefix of its own): pages per second of each in the same run, how the pages were
shared, and that every page was fetched exactly once.

Each worker keeps the source's politeness (``concurrency: 2`` requests at a time to the
site, the default): that, not the CPU, bounds one worker on a slow site, and is what a
second worker adds to. With ``concurrency: 8`` and 20 ms pages both workers are bound by
this machine's two cores instead (measured: 157 against 152 pages/s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def _slow_site(srv, articles: int = 2000, per: int = 20) -> str:
    pages = articles // per
    for p in range(1, pages + 1):
        links = "".join(
            f'<li><a class="t" href="/t/{(p - 1) * per + k}.html">帖{k}</a></li>'
            for k in range(per)
        )
        nxt = f'<a class="nxt" href="/list/{p + 1}.html">下一页</a>' if p < pages else ""
        srv.add(f"/list/{p}.html", f"<html><body><ul>{links}</ul>{nxt}</body></html>")
    from bench.feedserver import text

    for i in range(articles):
        srv.add(
            f"/t/{i}.html",
            f"<html><head><title>帖子 {i}</title></head><body><h1>校园帖子第{i}篇</h1>"
            f'<div class="c">{text(i, 40)}</div></body></html>',
            delay=0.04,
        )
    return srv.url("/list/1.html")


def workers_crawl(n_workers: int, redis_url: str = "redis://127.0.0.1:6379/14") -> dict:
    import uuid

    import redis

    from sentinel import config as config_mod
    from sentinel.pipeline import Pipeline
    from storage.db import Database
    from tests.servers.http import LoopbackHTTPServer

    prefix = f"sentinel-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, LoopbackHTTPServer() as srv:
        start = _slow_site(srv)
        path = Path(tmp) / "sentinel.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "database": f"sqlite:///{tmp}/bench.db",
                    "var_dir": f"{tmp}/var",
                    "crawl_queue": redis_url,
                    "crawl_queue_prefix": prefix,
                    "sources": [
                        {
                            "name": "bbs",
                            "type": "site",
                            "urls": [start],
                            "delay": 0,
                            "concurrency": 2,
                            "max_requests": 3000,
                            "crawl_timeout": "10m",
                            "list": {
                                "item": "a.t::attr(href)",
                                "next": "a.nxt::attr(href)",
                                "max_pages": 100,
                            },
                            "fields": {"title": "h1::text", "body": "div.c"},
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        cfg = config_mod.load(path)
        db = Database(cfg.database_url)
        sentinel = Path(sys.executable).parent / "sentinel"
        procs = [
            subprocess.Popen(
                [str(sentinel), "--config", str(path), "worker", "--name", f"w{i}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tmp,
            )
            for i in range(n_workers)
        ]
        try:
            from sqlalchemy import func, select

            from storage.models import CrawlWorker

            end = time.monotonic() + 60
            while time.monotonic() < end:
                with db.session() as s:
                    if s.scalar(select(func.count()).select_from(CrawlWorker)) == n_workers:
                        break
                time.sleep(0.2)
            pipeline = Pipeline(cfg, db)
            t = time.perf_counter()
            run = pipeline.collect(cfg.sources[0])
            wall = time.perf_counter() - t
            with db.session() as s:
                shares = sorted(w.pages for w in s.scalars(select(CrawlWorker)))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
            db.dispose()
            r = redis.Redis.from_url(redis_url)
            keys = list(r.scan_iter(f"{prefix}:*"))
            if keys:
                r.delete(*keys)
        twice = sum(1 for i in range(2000) if srv.requests_to(f"/t/{i}.html") != 1)
    return {
        "workers": n_workers,
        "wall_s": wall,
        "pages": run.fetched,
        "new": run.new,
        "error": run.error,
        "pages_per_s": run.fetched / wall,
        "shares": shares,
        "not_once": twice,
    }


def main() -> None:
    one, two = workers_crawl(1), workers_crawl(2)
    for w in (one, two):
        print(
            f"crawl workers: {w['workers']} on a 2,000-page slow site: {w['pages']:,} pages in {w['wall_s']:.1f} s "
            f"= {w['pages_per_s']:.0f} pages/s, {w['new']:,} posts stored, pages per worker {w['shares']}, "
            f"{w['not_once']} article pages not fetched exactly once{', error: ' + w['error'] if w['error'] else ''}"
        )
    print(
        f"crawl workers: two against one: {two['pages_per_s'] / one['pages_per_s']:.2f}× the pages per second"
    )


if __name__ == "__main__":
    main()
