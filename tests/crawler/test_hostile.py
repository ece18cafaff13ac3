"""The hostile resources of the loopback server against both fetch paths: the HTTP
layer (feeds, search) and the Scrapy spider (sites). Nothing hangs, nothing raises,
every failure has a kind."""

from __future__ import annotations

import time

import pytest

from crawler.http import FetchError, FetchOptions, HttpClient

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>ok</title>' \
       b'<link>http://a.example/1</link></item></channel></rss>'


@pytest.fixture
def client():
    c = HttpClient()
    yield c
    c.close()


def fetch_kind(client, url, **kw) -> str:
    opts = FetchOptions(obey_robots=False, **kw)
    with pytest.raises(FetchError) as e:
        client.fetch(url, opts)
    return e.value.kind


def test_silent_server_times_out(server, client):
    t = time.monotonic()
    assert fetch_kind(client, server.url("/hostile/hang"), timeout=1) == "timeout"
    assert time.monotonic() - t < 5


def test_never_ending_response_hits_the_whole_response_deadline(server, client):
    t = time.monotonic()
    assert fetch_kind(client, server.url("/hostile/never-ending"), timeout=1) == "timeout"
    assert time.monotonic() - t < 5


def test_dropped_connection_is_a_connection_error(server, client):
    assert fetch_kind(client, server.url("/hostile/drop")) == "connection"


def test_broken_chunked_body_is_a_connection_error(server, client):
    assert fetch_kind(client, server.url("/hostile/broken-chunked")) == "connection"


@pytest.mark.parametrize("bomb", ["gzip-bomb", "brotli-bomb"])
def test_compression_bomb_stops_at_the_decompressed_cap(server, client, bomb):
    t = time.monotonic()
    kind = fetch_kind(client, server.url(f"/hostile/{bomb}"), max_bytes=1 << 30,
                      max_decompressed=5 * 1024 * 1024)
    assert kind == "too_large"
    assert time.monotonic() - t < 10


def test_redirect_loop_stops_at_the_redirect_limit(server, client):
    assert fetch_kind(client, server.url("/hostile/redirect-loop"), max_redirects=3) == "redirect"
    assert server.requests_to("/hostile/redirect-loop") == 4


def test_big_body_is_cut_at_max_bytes_and_flagged(server, client):
    r = client.fetch(server.url("/hostile/big"), FetchOptions(obey_robots=False, max_bytes=1_000_000))
    assert r.truncated and len(r.body) == 1_000_000 and r.status == 200


def test_redirect_off_the_allowed_domains_is_refused(server, client):
    url = server.url("/redirect?to=http://elsewhere.example/x")
    assert fetch_kind(client, url, allowed_domains=["127.0.0.1"]) == "offsite"


def test_gzip_body_is_decompressed_and_the_coding_named(server, client):
    import gzip

    server.add("/z.xml", gzip.compress(FEED), headers={"Content-Encoding": "gzip"}, content_type="application/xml")
    r = client.fetch(server.url("/z.xml"), FetchOptions(obey_robots=False))
    assert r.body == FEED and r.headers["x-sentinel-decoded"] == "gzip"
    assert int(r.headers["x-sentinel-wire-bytes"]) < len(FEED) + 40


def test_robots_txt_is_obeyed_and_can_be_turned_off(server, client, collect):
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    url = server.add("/private/rss.xml", FEED, content_type="application/rss+xml")
    with pytest.raises(FetchError) as e:
        client.fetch(url, FetchOptions(obey_robots=True))
    assert e.value.kind == "robots"
    r = collect({"name": "p", "type": "feed", "url": url, "delay": 0})
    assert r.error_kind == "robots"
    r = collect({"name": "p", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert r.ok and len(r.posts) == 1


def test_user_agent_names_the_project_and_contact(server, collect):
    url = server.add("/rss.xml", FEED, content_type="application/rss+xml")
    collect({"name": "p", "type": "feed", "url": url, "delay": 0})
    assert {h["user-agent"] for _, p, h in server.log} == {"sentinel-test/0.1 (+mailto:office@example.edu.cn)"}


def test_per_host_delay_spaces_requests(server, client):
    url = server.add("/a", "x")
    opts = FetchOptions(obey_robots=False, delay=0.3)
    t = time.monotonic()
    for _ in range(3):
        client.fetch(url, opts)
    assert time.monotonic() - t >= 0.6


def test_http_errors_become_error_kinds(server, collect):
    server.add("/gone", "no", status=404)
    server.add("/down", "no", status=503)
    assert collect({"name": "a", "type": "feed", "url": server.url("/gone"), "delay": 0}).error_kind == "http_4xx"
    assert collect({"name": "a", "type": "feed", "url": server.url("/down"), "delay": 0}).error_kind == "http_5xx"


def test_site_spider_survives_every_hostile_resource(server, collect):
    good = server.add("/good.html", "<html><head><title>好页面</title></head><body><div id=c>正文内容</div></body></html>")
    names = ["hang", "never-ending", "drop", "broken-chunked", "gzip-bomb", "brotli-bomb", "redirect-loop", "big",
             "big?nolength=1"]
    urls = [server.url(f"/hostile/{n}") for n in names] + [good]
    t = time.monotonic()
    r = collect({"name": "h", "type": "site", "urls": urls, "delay": 0, "timeout": 2,
                 "max_bytes": 2_000_000, "concurrency": 8, "fields": {"body": "#c"}, "crawl_timeout": 60})
    assert time.monotonic() - t < 40
    by_url = {p.snapshot.url: p for p in r.posts}
    assert by_url[good].text == "正文内容"
    # A declared 50 MB body is refused up front (too_large); one without a length is
    # cut at max_bytes while reading, kept and flagged.
    big = by_url[server.url("/hostile/big?nolength=1")]
    assert big.snapshot.truncated and len(big.snapshot.body) == 2_000_000
    assert set(by_url) == {good, server.url("/hostile/big?nolength=1")}
    assert r.ok  # pages came through: the run succeeded, the rest are warnings
    kinds = {w.split(":", 1)[0] for w in r.warnings}
    assert {"timeout", "too_large", "connection"} <= kinds, r.warnings
    assert any("were cut" in w for w in r.warnings)
    assert any(w.startswith("redirect") or "redirect" in w.lower() for w in r.warnings), r.warnings


def test_site_snapshot_names_the_transport_coding_it_removed(server, collect):
    import gzip

    page = "<html><head><title>压缩页面</title></head><body><div id=c>正文</div></body></html>".encode()
    url = server.add("/gz.html", gzip.compress(page), headers={"Content-Encoding": "gzip"})
    r = collect({"name": "g", "type": "site", "urls": [url], "delay": 0, "fields": {"body": "#c"}})
    [p] = r.posts
    assert p.snapshot.body == page and p.text == "正文"
    assert p.snapshot.headers["x-sentinel-decoded"] == "gzip"
    assert int(p.snapshot.headers["x-sentinel-wire-bytes"]) == len(gzip.compress(page))


def test_site_robots_txt_is_obeyed_and_ignoring_it_shows(server, collect):
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    url = server.add("/private/p.html", "<html><body><div id=c>秘密</div></body></html>")
    r = collect({"name": "r", "type": "site", "urls": [url], "delay": 0, "fields": {"body": "#c"}})
    assert r.posts == [] and r.error_kind == "robots"
    r = collect({"name": "r", "type": "site", "urls": [url], "delay": 0, "fields": {"body": "#c"},
                 "obey_robots": False})
    assert [p.text for p in r.posts] == ["秘密"]
    assert any("robots.txt is ignored" in w for w in r.warnings)


def test_site_compression_bomb_is_reported_as_too_large(server, collect):
    r = collect({"name": "b", "type": "site", "urls": [server.url("/hostile/gzip-bomb")], "delay": 0,
                 "max_bytes": 1_000_000, "obey_robots": False})
    assert r.error_kind == "too_large", (r.error_kind, r.error)


def test_per_host_concurrency_is_limited(server, client):
    from concurrent.futures import ThreadPoolExecutor

    url = server.add("/slow", "x", delay=0.3)
    opts = FetchOptions(obey_robots=False, per_host=1)
    t = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.fetch(url, opts), range(4)))
    assert time.monotonic() - t >= 1.2


def test_oversized_feed_is_cut_flagged_and_still_parsed(server, collect):
    items = "".join(f"<item><title>条目{i}</title><link>http://a.example/{i}</link></item>" for i in range(2000))
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    url = server.add("/big.xml", body, content_type="application/rss+xml")
    r = collect({"name": "big", "type": "feed", "url": url, "delay": 0, "max_bytes": 20_000})
    assert r.posts and len(r.posts) < 2000
    assert r.posts[0].snapshot.truncated and len(r.posts[0].snapshot.body) == 20_000
    assert any("cut" in w for w in r.warnings)
