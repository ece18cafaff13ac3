"""The HTTP layer talks to httpcore's pool directly (issue 13: a pass over 10,000 feeds
is CPU-bound on the client): what goes over the wire and what comes back must be what
httpx.Client gave before — a named User-Agent, compression offered, the host, the
conditional-GET validators — and a connection is reused from one feed to the next."""

from __future__ import annotations

from crawler.http import FetchOptions, HttpClient
from tests.servers.http import LoopbackHTTPServer


def test_a_fetch_names_us_offers_compression_and_sends_the_validators():
    client = HttpClient()
    with LoopbackHTTPServer() as srv:
        srv.add("/feed.xml", "<rss/>", content_type="application/rss+xml")
        r = client.fetch(
            srv.url("/feed.xml"),
            FetchOptions(
                user_agent="sentinel-test/1", obey_robots=False, etag='"v1"', last_modified="x"
            ),
        )
        _method, path, headers = srv.log[-1]
    client.close()
    assert r.status == 200 and r.body == b"<rss/>" and path == "/feed.xml"
    assert headers["user-agent"] == "sentinel-test/1"
    assert headers["accept-encoding"] == "gzip, deflate, br"
    assert headers["host"] == srv.url("/").split("/")[2]
    assert headers["if-none-match"] == '"v1"' and headers["if-modified-since"] == "x"


def test_response_headers_are_lowercased_and_a_repeated_one_is_joined():
    client = HttpClient()
    with LoopbackHTTPServer() as srv:
        srv.add("/a", "ok", headers={"X-Thing": "1", "Retry-After": "5"})
        r = client.fetch(srv.url("/a"), FetchOptions(obey_robots=False))
    client.close()
    assert r.headers["x-thing"] == "1" and r.headers["retry-after"] == "5"
    assert r.final_url == srv.url("/a")


def test_feeds_on_one_host_reuse_one_connection():
    client = HttpClient()
    with LoopbackHTTPServer() as srv:
        for i in range(20):
            srv.add(
                f"/f{i}.xml", f"<rss>{i}</rss>", content_type="application/rss+xml", etag=f'"e{i}"'
            )
        got = [
            client.fetch(srv.url(f"/f{i}.xml"), FetchOptions(obey_robots=False)) for i in range(20)
        ]
        again = client.fetch(srv.url("/f3.xml"), FetchOptions(obey_robots=False, etag='"e3"'))
        requests = len(srv.log)
        connections = len(client._pool.connections)
    client.close()
    assert [r.body for r in got] == [f"<rss>{i}</rss>".encode() for i in range(20)]
    assert again.status == 304 and again.body == b""
    assert requests == 21 and connections == 1  # one kept-alive connection served them all
