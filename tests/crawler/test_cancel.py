"""A stopping daemon does not wait for slow servers: ``crawler.deadline.cancel`` ends
the fetches and crawls under way at once, and the ones started afterwards."""

from __future__ import annotations

import threading
import time

import pytest

from crawler.base import CollectContext
from crawler.deadline import cancel
from crawler.http import FetchError, FetchOptions, HttpClient


def test_cancel_ends_a_fetch_that_hangs_and_every_later_one(server):
    stop = threading.Event()
    client = HttpClient()
    errors: list[FetchError] = []

    def fetch():
        try:
            client.fetch(
                server.url("/hostile/hang"),
                FetchOptions(timeout=60, obey_robots=False, cancel=stop),
            )
        except FetchError as e:
            errors.append(e)

    t = threading.Thread(target=fetch)
    t.start()
    time.sleep(0.5)
    asked = time.monotonic()
    cancel(stop)
    t.join(timeout=5)
    assert not t.is_alive() and time.monotonic() - asked < 2
    assert errors and errors[0].kind == "timeout"
    with pytest.raises(FetchError):
        client.fetch(
            server.url("/hostile/hang"), FetchOptions(timeout=60, obey_robots=False, cancel=stop)
        )
    client.close()


def test_cancel_stops_a_crawl_child(server, collect):
    stop = threading.Event()
    ctx = CollectContext(user_agent="sentinel-test/0.1", cancel=stop)
    threading.Timer(1.5, stop.set).start()
    started = time.monotonic()
    result = collect(
        {
            "name": "s",
            "type": "site",
            "urls": [server.url("/hostile/hang")],
            "timeout": "60s",
            "obey_robots": False,
        },
        ctx=ctx,
    )
    assert time.monotonic() - started < 5
    assert result.error_kind == "cancelled"
