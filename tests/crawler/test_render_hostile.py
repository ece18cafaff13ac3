"""Issue 14 for the rendered fetch (``render: true``, headless Chromium): a hostile server
costs at most the page's ``timeout``, an unusable redirect is one line, and neither a
navigation nor a script, style or XHR request reached by redirect from another host
gets into loopback or private addresses unless the source allows it. Every case
asserts its time bound and prints the figure (pytest -s)."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.crawler.test_render import JS_POST, STORY, _site
from tests.servers.http import LoopbackHTTPServer

pytestmark = [
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(180),
]

# A rendered page costs its crawl child and Chromium's start and end on top of what the
# server makes it wait: seconds on a quiet machine, 20 s and more on a busy one. The
# bound stays below what an unbounded wait would cost (the hang server gives up after
# 60 s, the trickles after days); the error kind proves the rest: a redirect or a refusal
# that waited for the page's timeout would be reported as a timeout.
LIMIT = 45


def bounded(t0: float, what: str) -> float:
    took = time.monotonic() - t0
    print(f"\n{what}: stopped after {took:.2f} s (bound {LIMIT} s)")
    assert took < LIMIT, f"{what} took {took:.2f} s"
    return took


@pytest.mark.parametrize(
    "path",
    [
        "/hostile/hang",
        "/hostile/never-ending",
        "/hostile/trickle-headers?every=0.5",
        "/hostile/trickle-body?every=0.5",
    ],
)
def test_a_hostile_server_costs_a_rendered_page_at_most_its_timeout(server, collect, path):
    t = time.monotonic()
    r = collect(_site(server.url(path), render=True, timeout=3, obey_robots=False))
    bounded(t, f"rendered page, {path.split('?')[0]}, timeout 3 s")
    assert r.posts == [] and r.error_kind == "timeout", (r.error_kind, r.error)
    assert "\n" not in r.error


@pytest.mark.parametrize("path", ["/hostile/redirect-data", "/hostile/redirect-bad"])
def test_a_rendered_page_redirected_to_an_unusable_url_fails_with_one_line(server, collect, path):
    t = time.monotonic()
    r = collect(_site(server.url(path), render=True, obey_robots=False))
    bounded(t, f"rendered page, {path}")
    assert r.posts == [] and r.error_kind == "redirect", (r.error_kind, r.error)
    assert "\n" not in r.error


def test_a_rendered_page_whose_server_refuses_fails_at_once_with_one_line(collect):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    r = collect(_site(f"http://127.0.0.1:{port}/x", render=True, obey_robots=False))
    bounded(t, "rendered page, connection refused, timeout 30 s")
    assert r.posts == [] and r.error_kind == "refused", (r.error_kind, r.error)
    assert "\n" not in r.error


@pytest.fixture
def internal():
    """A second loopback server standing in for an internal service (another port)."""
    with LoopbackHTTPServer() as srv:
        srv.add("/landing", JS_POST)
        srv.add("/steal.js", "document.body.insertAdjacentHTML('beforeend', '<p>内网脚本</p>')")
        srv.add("/api", "内网数据", content_type="text/plain")
        yield srv


def test_a_rendered_page_redirected_from_another_host_into_loopback_needs_allow_private(
    server, internal, collect
):
    # localhost (another host name) sends the page to 127.0.0.1: a private address
    # reached by redirect. Allowing its port is not enough; allow_private is.
    first = f"http://localhost:{server.port}/redirect?to={internal.url('/landing')}"
    cfg = _site(
        first,
        render=True,
        render_wait="article.post",
        obey_robots=False,
        allowed_domains=[f"127.0.0.1:{internal.port}"],
    )
    t = time.monotonic()
    r = collect(cfg)
    bounded(t, "rendered page redirected into loopback, refused")
    assert r.posts == [] and r.error_kind == "offsite", (r.error_kind, r.error)
    assert "allow_private" in r.error and "\n" not in r.error
    assert internal.requests_to("/landing") == 0  # never even asked
    r = collect({**cfg, "allow_private": True})
    assert r.ok, r.error
    assert STORY in r.posts[0].text and internal.requests_to("/landing") == 1


@pytest.fixture
def no_lna_chromium(tmp_path):
    """Debian's Chromium without its Local Network Access checks, as versions before 142
    were: on loopback those block every cross-origin request of a rendered page (its
    document, fulfilled by our route, counts as public), which would hide whether our own
    guard refuses the hop."""
    wrapper = tmp_path / "chromium-no-lna"
    # Playwright passes its own --disable-features (Chromium reads the last one): add to it.
    wrapper.write_text(
        "#!/bin/sh\n"
        "for a; do\n"
        '  case "$a" in --disable-features=*) a="$a,LocalNetworkAccessChecks";; esac\n'
        '  set -- "$@" "$a"; shift\n'
        "done\n"
        f'exec {shutil.which("chromium")} "$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


def test_a_script_or_xhr_redirected_from_another_host_into_loopback_needs_allow_private(
    server, internal, collect, context, no_lna_chromium
):
    from crawler.base import CollectContext

    # The page is where it should be; what it loads goes through a redirector on another
    # host name into 127.0.0.1: refused hop by hop, like a plain fetch's redirect.
    via = f"http://localhost:{server.port}/redirect?to="
    page = JS_POST.replace(
        "</body>",
        f"<script src='{via}{internal.url('/steal.js')}'></script>"
        f"<script>fetch('{via}{internal.url('/api')}').then(r => r.text()).then(t => "
        "document.body.insertAdjacentHTML('beforeend', '<p>' + t + '</p>'));</script>"
        "</body>",
    )
    url = server.add("/thread/via", page)
    cfg = _site(
        url,
        render=True,
        render_wait=1500,
        obey_robots=False,
        allowed_domains=[f"localhost:{server.port}", f"127.0.0.1:{internal.port}"],
    )
    ctx = CollectContext(user_agent=context.user_agent, browser_path=no_lna_chromium)
    t = time.monotonic()
    r = collect(cfg, ctx=ctx)
    bounded(t, "script and XHR redirected into loopback, refused")
    assert r.ok, r.error
    assert STORY in r.posts[0].text
    assert server.requests_to("/redirect") == 2  # each asked for, its next hop refused
    assert internal.requests_to("/steal.js") == 0 and internal.requests_to("/api") == 0, [
        (internal.stamps, server.stamps, internal.log)
    ]
    r = collect({**cfg, "allow_private": True}, ctx=ctx)
    assert r.ok, r.error
    assert internal.requests_to("/steal.js") == 1 and internal.requests_to("/api") == 1
