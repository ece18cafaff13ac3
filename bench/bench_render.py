"""What ``render: true`` costs (``python -m bench.bench_render [PAGES]``): the same
script-written posts behind one list page, crawled plainly and rendered in Chromium, on
127.0.0.1, in the same run. Prints wall time, CPU of the crawl's processes (the child,
Playwright's driver and the browser, all waited for) per page, and the largest process.
"""

from __future__ import annotations

import resource
import sys
import time

from crawler.child import CrawlChild

POST = (
    "<!doctype html><html><head><meta charset='utf-8'><title>加载中</title></head><body>"
    "<div id='app'>加载中...</div><script>setTimeout(function () {"
    "document.getElementById('app').innerHTML = '<article class=\"post\"><h1>食堂</h1><p>' + "
    "'今天有同学反映江西警察学院食堂饭菜质量问题，学校后勤处已经介入调查。'.repeat(5) + "
    "'</p></article>'; }, 200);</script></body></html>"
)


def crawl(board: str, render: bool) -> dict:
    job = {
        "urls": [board],
        "list": {"item": "a.t::attr(href)"},
        "fields": {},
        "allowed_domains": [board.split("/")[2]],
        "render": render,
        "render_wait": "article.post" if render else None,
        "timeout": 30,
        "obey_robots": False,
        "delay": 0,
        "max_requests": 10_000,
        "render_max_pages": 10_000,
        "concurrency": 2,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, pages = time.monotonic(), 0
    with CrawlChild(job, timeout=600) as child:
        for kind, _ in child:
            pages += kind == "page"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "render": render,
        "pages": pages,
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_per_page_s": round(cpu / max(pages, 1), 3),
        "largest_process_mb": round(after.ru_maxrss / 1024),
    }


def main(pages: int = 20) -> list[dict]:
    from tests.servers.http import LoopbackHTTPServer

    with LoopbackHTTPServer() as srv:
        for i in range(pages):
            srv.add(f"/t/{i}", POST)
        links = "".join(f"<a class='t' href='/t/{i}'>帖子{i}</a>" for i in range(pages))
        board = srv.add("/board", f"<html><body>{links}</body></html>")
        results = [crawl(board, render=False), crawl(board, render=True)]
    for r in results:
        print(r)
    plain, rendered = results
    print(
        f"rendered/plain CPU per page: {rendered['cpu_per_page_s'] / plain['cpu_per_page_s']:.1f}×"
    )
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
