"""The demo world with a real clock, and with the project's own crawler and config
loader: what ``sentinel demo`` relies on."""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import pytest

from crawler.base import CollectContext, SourceState, collect_all
from crawler.registry import source_types
from demo.scenario import default_scenario
from demo.world import CampusWorld
from tests.demo.conftest import HandClock, fetch

SCENARIO = default_scenario()


def test_real_clock_with_speed_shows_posts_as_time_passes():
    inquiry = SCENARIO.post("canteen-inquiry")  # 6 scenario seconds
    with CampusWorld(speed=20) as world:
        assert fetch(world.post_url(inquiry)).status == 404
        deadline = time.monotonic() + 5
        while fetch(world.post_url(inquiry)).status == 404:
            assert time.monotonic() < deadline, "the inquiry never appeared"
            time.sleep(0.05)
        assert 6 <= world.elapsed() < 6 + 20 * 2


def test_stop_closes_kept_alive_connections():
    world = CampusWorld(clock=HandClock()).start()
    conn = http.client.HTTPConnection("127.0.0.1", world.port, timeout=5)
    conn.request("GET", "/robots.txt")
    r = conn.getresponse()
    assert r.status == 200 and r.read()
    world.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        conn.request("GET", "/robots.txt")
        conn.getresponse()
    conn.close()


def _collect(world: CampusWorld, tmp_path: Path) -> dict[str, list]:
    cfg = world.sentinel_config(tmp_path, 2525, delay=0)
    types = source_types()
    out = {}
    for spec in cfg["sources"]:
        kind = types[spec["type"]]
        source = kind(kind.config_model.model_validate(spec), context=CollectContext())
        result = collect_all(source, SourceState())
        assert result.error is None, (spec["name"], result.error_kind, result.error)
        out[spec["name"]] = result.posts
    return out


@pytest.mark.slow
def test_the_projects_crawler_collects_the_whole_scenario(tmp_path):
    clock = HandClock(SCENARIO.duration + 1)
    with CampusWorld(clock=clock) as world:
        posts = _collect(world, tmp_path)
    by_url = {p.url: p for ps in posts.values() for p in ps}
    for post in SCENARIO:
        got = by_url.get(world.post_url(post))
        assert got is not None, post.key
        assert got.title == post.title, post.key
        assert post.paragraphs[0][:20] in got.text.replace("\n", ""), post.key
        assert got.published_at is not None, post.key
        if post.site != "news":
            assert got.author == post.author, post.key
            assert "\ufffd" not in got.text
    # The forum's GBK thread pages were decoded, from bytes that really are GBK.
    forum = [p for p in posts["campus-forum"] if p.snapshot is not None]
    assert forum and all(b"charset=gbk" in p.snapshot.body for p in forum)


@pytest.mark.slow
def test_the_feed_source_gets_304_when_nothing_changed(tmp_path):
    clock = HandClock(20)
    with CampusWorld(clock=clock) as world:
        spec = world.sentinel_config(tmp_path, 2525, delay=0)["sources"][0]
        assert spec["type"] == "feed"
        kind = source_types()["feed"]
        source = kind(kind.config_model.model_validate(spec), context=CollectContext())
        first = collect_all(source, SourceState())
        assert first.error is None and first.posts
        again = collect_all(source, first.state)
        assert again.not_modified and not again.posts
        clock.t = SCENARIO.post("canteen-hype-news").appear_after
        later = collect_all(source, again.state)
        assert not later.not_modified
        assert SCENARIO.post("canteen-hype-news").title in {p.title for p in later.posts}


def test_restart_on_the_same_port_keeps_the_timeline():
    clock = HandClock(40)
    world = CampusWorld(clock=clock).start()
    try:
        port, epoch = world.port, world.epoch
        hype = world.post_url("canteen-hype")
        assert fetch(hype).status == 200
        world.stop()
        with pytest.raises(OSError):
            fetch(hype)
        world.start()
        assert world.port == port and world.epoch == epoch
        assert fetch(hype).status == 200
    finally:
        world.stop()
