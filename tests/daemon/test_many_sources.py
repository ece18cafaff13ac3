"""Many sources: their first runs are spread so they do not all fire together, and
none starves — every source is polled at about its interval."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from sentinel import config as config_mod
from tests.daemon.conftest import wait_for, write_config

N = 300
RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>学院新闻</title><link>http://n.example.edu.cn/{i}</link><description>活动</description></item>"
    "</channel></rss>"
)


@pytest.mark.slow
def test_many_sources_start_spread_out_and_none_starves(tmp_path, server):
    import scheduler

    sources = []
    for i in range(N):
        server.add(
            f"/f/{i}.xml", RSS.format(i=i), content_type="application/rss+xml", etag=f'"{i}"'
        )
        sources.append(
            {
                "name": f"f{i}",
                "type": "feed",
                "url": server.url(f"/f/{i}.xml"),
                "interval": 4,
                "delay": 0,
            }
        )
    cfg = config_mod.load(write_config(tmp_path, sources))
    stop = threading.Event()
    started = {}
    t = threading.Thread(
        target=scheduler.run_daemon,
        args=(cfg,),
        daemon=True,
        kwargs={"stop": stop, "on_started": lambda p: started.setdefault("at", time.monotonic())},
    )
    t.start()

    def seen() -> set[str]:
        return {path for _, path in list(server.stamps) if path.startswith("/f/")}

    try:
        assert wait_for(lambda: "at" in started, 30)
        # Every source's first run waits for the matcher to load, which a busy machine
        # stretches; the count starts once each feed has been asked once.
        assert wait_for(lambda: len(seen()) == N, 60)
        t0 = time.monotonic()
        time.sleep(12)
    finally:
        stop.set()
        t.join(timeout=15)
    polls = Counter(
        path for at, path in list(server.stamps) if path.startswith("/f/") and t0 <= at < t0 + 12
    )
    # 12 s at a 4 s interval: three polls each; none starved, none polled more often.
    assert len(polls) == N and min(polls.values()) >= 2, sorted(polls.values())[:10]
    assert max(polls.values()) <= 4


def test_a_thousand_sources_first_run_spread_over_their_first_interval(tmp_path):
    import scheduler
    from sentinel.pipeline import Pipeline
    from storage.db import Database

    sources = [
        {
            "name": f"f{i}",
            "type": "feed",
            "url": f"http://n{i}.example.edu.cn/rss",
            "interval": "5m",
        }
        for i in range(1000)
    ]
    cfg = config_mod.load(write_config(tmp_path, sources))
    db = Database(cfg.database_url)
    try:
        sched = scheduler.build_scheduler(Pipeline(cfg, db), cfg)
        firsts = sorted(
            j.next_run_time.timestamp() for j in sched.get_jobs() if j.id.startswith("source:")
        )
    finally:
        db.dispose()
    assert len(firsts) == 1000
    assert firsts[-1] - firsts[0] >= 40  # 1,000 × 50 ms: over about 50 s, not at once
    per_second = Counter(int(t - firsts[0]) for t in firsts)
    assert max(per_second.values()) <= 50  # about 20 a second; 1,000 at once without the spread
