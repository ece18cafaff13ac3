"""The daemon with hostile sources: four feeds whose servers trickle their headers one
byte at a time must not stop a good feed from being polled at its interval, nor mail
(here the 【采集异常】 notices about the four) from going out."""

from __future__ import annotations

import itertools
import threading
import time

from demo.mailbox import Mailbox
from sentinel.config import Config
from tests.servers.http import LoopbackHTTPServer

GOOD = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><item>'
    b"<title>ok</title><link>http://good.example/1</link></item></channel></rss>"
)


def test_four_header_trickling_feeds_do_not_stop_a_good_feed_or_the_mail(tmp_path):
    import scheduler

    window = 8.0
    with (
        LoopbackHTTPServer() as hostile,
        LoopbackHTTPServer() as good,
        Mailbox(tmp_path / "mail") as box,
    ):
        good.add("/good.xml", GOOD, content_type="application/rss+xml")
        common = {"type": "feed", "interval": 1, "jitter": 0, "delay": 0, "obey_robots": False}
        sources = [{**common, "name": "good", "url": good.url("/good.xml")}]
        sources += [
            {
                **common,
                "name": f"trickle-{i}",
                "timeout": 2,
                "url": hostile.url(f"/hostile/trickle-headers?every=0.5&n={i}"),
            }
            for i in range(4)
        ]
        cfg = Config.model_validate(
            {
                "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "var_dir": str(tmp_path / "var"),
                "sources": sources,
                "recipients": {"office": ["yuqing@example.edu.cn"]},
                # No growing wait here: this test is about the trickle costing each feed only its
                # timeout (backoff has its own tests in tests/daemon/).
                "backoff": {"max_delay": 1, "jitter": 0},
                "smtp": {
                    "host": "127.0.0.1",
                    "port": box.port,
                    "security": "none",
                    "from": "yuqing@example.edu.cn",
                },
            }
        )
        cfg.base_dir = tmp_path
        stop = threading.Event()
        t = threading.Thread(
            target=scheduler.run_daemon, args=(cfg,), kwargs={"stop": stop}, daemon=True
        )
        t.start()
        # Every source's first run waits for the matcher's first load (jieba; seconds, and
        # many more on a busy machine): count from the good feed's second poll on.
        started = time.monotonic()
        while good.requests_to("/good.xml") < 2 and time.monotonic() - started < 90:
            time.sleep(0.05)
        warm_up = time.monotonic() - started
        before = good.requests_to("/good.xml")
        t0 = time.monotonic()
        time.sleep(window)
        polls = good.requests_to("/good.xml") - before
        at = [s for s, p in good.stamps if p == "/good.xml" and s >= t0 - 1.5]
        gaps = [round(b - a, 2) for a, b in itertools.pairwise(at)]
        stop.set()
        t.join(timeout=30)
        assert not t.is_alive(), "the daemon did not stop"
        tries = hostile.requests_to("/hostile/trickle-headers")
        notices = [m["Subject"] for m in box.messages() if "采集异常" in (m["Subject"] or "")]
    print(
        f"\ndaemon: polling under way after {warm_up:.1f} s (first runs wait for the matcher); the good feed "
        f"polled {polls} times in {window:g} s (interval 1 s), gaps {gaps} s; the 4 trickling "
        f"feeds were tried {tries} times in {warm_up + window:.1f} s (timeout 2 s each); "
        f"{len(notices)} 【采集异常】 notices mailed"
    )
    assert polls >= window - 1  # at its interval, give or take one
    assert tries >= 4  # (two at a time: the per-host limit; the others time out waiting their turn)
    assert len(notices) == 4  # three failures in a row each: the office is told, mail flows
